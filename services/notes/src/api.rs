//! The wire types of the notes API (crate `notes-api`, shared with the
//! client) and the service's list cursor.

pub use notes_api::{CreateNote, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NoteList, UpdateNote};

use tenancy::cursor::ListCursor;

/// The note list's cursors: the note to continue after.
pub const CURSOR: ListCursor = ListCursor::new("n1:");
