//! The wire types of the notes API (crate `notes-api`, shared with the
//! client) and the service's own list cursor.

pub use notes_api::{CreateNote, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NoteList, UpdateNote};

use crate::domain::NoteId;

const CURSOR_PREFIX: &str = "n1:";

/// An opaque position in the note list: the note to continue after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub NoteId);

impl Cursor {
    pub fn encode(&self) -> String {
        tenancy::cursor::encode(CURSOR_PREFIX, &self.0)
    }

    /// `None` for anything this service did not hand out.
    pub fn decode(text: &str) -> Option<Self> {
        tenancy::cursor::decode(CURSOR_PREFIX, text).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor(NoteId::generate());
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        let raw_id = NoteId::generate().to_string();
        for bad in [
            "",
            "%%%",
            raw_id.as_str(),
            &URL_SAFE_NO_PAD.encode(&raw_id),
            &URL_SAFE_NO_PAD.encode("n1:not-a-uuid"),
            &URL_SAFE_NO_PAD.encode(format!("n2:{raw_id}")),
            &"A".repeat(4096),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
