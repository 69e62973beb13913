#![doc = include_str!("../README.md")]

use futures_util::Stream;
pub use notes_api::{
    CreateNote, DEFAULT_PAGE_SIZE, MAX_BODY_BYTES, MAX_PAGE_SIZE, MAX_TITLE_CHARS, Note, NoteId, UpdateNote,
};
pub use saas_client::{ApiClient, Error, IdempotencyKey, Page};
use saas_client::{Method, paginate};

/// How many times [`NotesClient::modify`] re-reads and re-applies a change
/// that lost a race with another writer.
pub const MODIFY_ATTEMPTS: usize = 3;

/// The notes of the caller's tenant (`/notes`).
#[derive(Debug, Clone)]
pub struct NotesClient {
    api: ApiClient,
}

impl NotesClient {
    pub fn new(api: ApiClient) -> Self {
        Self { api }
    }

    /// `GET /notes`: one page, newest first (`limit` 1–100, default 20).
    pub async fn list_page(&self, limit: Option<usize>, cursor: Option<&str>) -> Result<Page<Note>, Error> {
        self.api.list_page(&["notes"], limit, cursor).await
    }

    /// Every note, newest first, following the cursors `page_size` at a time.
    pub fn list(&self, page_size: Option<usize>) -> impl Stream<Item = Result<Note, Error>> + '_ {
        paginate(move |cursor| async move { self.list_page(page_size, cursor.as_deref()).await })
    }

    /// `POST /notes`, with a new idempotency key: retried like a read (a
    /// retry answers with the note the first attempt made, never a second).
    pub async fn create(&self, note: &CreateNote) -> Result<Note, Error> {
        self.create_with_key(note, &IdempotencyKey::generate()).await
    }

    /// `POST /notes` with the caller's `key`: the same key and note, sent
    /// again later (within a day), answer with the same note.
    pub async fn create_with_key(&self, note: &CreateNote, key: &IdempotencyKey) -> Result<Note, Error> {
        self.api.call(Method::POST, &["notes"]).idempotency_key(key).json(note)?.send().await
    }

    /// `GET /notes/{note_id}`.
    pub async fn get(&self, id: NoteId) -> Result<Note, Error> {
        self.api.call(Method::GET, &["notes", &id.to_string()]).send().await
    }

    /// `PUT /notes/{note_id}`: the new content and the version it replaces;
    /// [`Error::Conflict`] when the note changed since that version.
    pub async fn update(&self, id: NoteId, update: &UpdateNote) -> Result<Note, Error> {
        self.api.call(Method::PUT, &["notes", &id.to_string()]).json(update)?.send().await
    }

    /// Writes new content over the note as it was read: succeeds only if
    /// nobody changed it since ([`Error::Conflict`] otherwise).
    pub async fn replace(&self, read: &Note, title: impl Into<String>, body: impl Into<String>) -> Result<Note, Error> {
        let update = UpdateNote { title: title.into(), body: body.into(), version: read.version };
        self.update(read.id, &update).await
    }

    /// Reads the note, applies `change` (new title and body from the current
    /// note) and writes it with the version read. When another writer got in
    /// between, reads again and re-applies, up to [`MODIFY_ATTEMPTS`] times.
    pub async fn modify<F>(&self, id: NoteId, mut change: F) -> Result<Note, Error>
    where
        F: FnMut(&Note) -> (String, String),
    {
        let mut attempt = 1;
        loop {
            let current = self.get(id).await?;
            let (title, body) = change(&current);
            match self.replace(&current, title, body).await {
                Err(Error::Conflict(_)) if attempt < MODIFY_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// `DELETE /notes/{note_id}`.
    pub async fn delete(&self, id: NoteId) -> Result<(), Error> {
        self.api.call(Method::DELETE, &["notes", &id.to_string()]).send_empty().await
    }
}
