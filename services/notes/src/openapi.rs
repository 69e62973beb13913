//! The OpenAPI 3.1 document of the notes API, generated from the wire types
//! and the route declarations below. The committed copy is
//! `services/notes/openapi.json`; `tests/openapi.rs` keeps it equal to this
//! and to [`ROUTES`](crate::entrypoint::ROUTES), and the handler tests check
//! every status they see against it. Not used by the Lambda binary.

use tenancy::Problem;
use tenancy::openapi::{BEARER_EVERYWHERE, GatewayMessage, PageParams, StandardErrors};
use utoipa::OpenApi;

use crate::api::{CreateNote, NoteList, UpdateNote};
use crate::domain::{Note, NoteId};

/// The errors an operation has unless it declares its own (see [`StandardErrors`]).
const ERRORS: StandardErrors = StandardErrors {
    forbidden: "No tenant claims, the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`)",
    unavailable: "The data store or STS is unavailable; retry (a change is made in full or not at all)",
    body_limit: "64 KiB",
};

/// The notes API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "notes",
        description = "Tenant-scoped notes. The tenant is the one in the caller's token; \
                       another tenant's notes are answered 404. Every error is an `application/problem+json` body.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(ops::list_notes, ops::create_note, ops::get_note, ops::update_note, ops::delete_note),
    components(schemas(Problem, GatewayMessage)),
    modifiers(&BEARER_EVERYWHERE, &ERRORS),
    tags((name = "notes", description = "The caller's tenant's notes")),
)]
pub struct NotesDoc;

/// The document as committed: pretty-printed JSON.
pub fn document_json() -> String {
    tenancy::openapi::render(&NotesDoc::openapi())
}

/// The route declarations (the handlers are in `entrypoint.rs`).
#[allow(dead_code, reason = "declarations read by the OpenApi derive only")]
mod ops {
    use super::*;

    /// List the tenant's notes, newest first.
    #[utoipa::path(get, path = "/notes", operation_id = "listNotes", tag = "notes",
        params(PageParams),
        responses(
            (status = 200, description = "A page of notes", body = NoteList),
            (status = 400, description = "Bad `limit` or `cursor`, an unknown query parameter or a body", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn list_notes() {}

    /// Create a note. With an `Idempotency-Key`, safe to retry: the same key and input within a day
    /// answer with the note the first request made, never a second one.
    #[utoipa::path(post, path = "/notes", operation_id = "createNote", tag = "notes",
        params(
            ("Idempotency-Key" = Option<String>, Header,
                description = "Optional. A random value of 32 to 128 characters (`A-Z a-z 0-9 - _`) the client makes for this create and sends again, unchanged, with every retry of it; it is the caller's own (another member's same key is another request)",
                pattern = "^[A-Za-z0-9_-]{32,128}$", min_length = 32, max_length = 128),
        ),
        request_body = CreateNote,
        responses(
            (status = 201, description = "Created, or (the same Idempotency-Key and input again) the note that request created", body = Note,
                headers(("Location" = String, description = "`/notes/{note_id}` of the new note"))),
            (status = 400, description = "Invalid JSON, unknown or missing fields, a bad title or body, a malformed Idempotency-Key, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "No tenant claims, the tenant is not active (`urn:problem:tenant-inactive`), or the caller is no longer an active member (`urn:problem:membership-inactive`), or the tier's note limit is reached (`urn:problem:limit-exceeded`)", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "The Idempotency-Key was used with other input, or the note it created has since been deleted; or a concurrent request changed the same data (nothing was written, retry)", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn create_note() {}

    /// Get one note.
    #[utoipa::path(get, path = "/notes/{note_id}", operation_id = "getNote", tag = "notes",
        params(("note_id" = NoteId, Path, description = "The note's id")),
        responses(
            (status = 200, description = "The note", body = Note),
            (status = 404, description = "No such note in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn get_note() {}

    /// Replace a note's title and body, naming the version read.
    #[utoipa::path(put, path = "/notes/{note_id}", operation_id = "updateNote", tag = "notes",
        params(("note_id" = NoteId, Path, description = "The note's id")),
        request_body = UpdateNote,
        responses(
            (status = 200, description = "The note at its new version", body = Note),
            (status = 400, description = "A bad id, invalid JSON, unknown or missing fields, a bad title or body, or a query parameter", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such note in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "`version` is stale; nothing was changed", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn update_note() {}

    /// Delete a note.
    #[utoipa::path(delete, path = "/notes/{note_id}", operation_id = "deleteNote", tag = "notes",
        params(("note_id" = NoteId, Path, description = "The note's id")),
        responses(
            (status = 204, description = "Deleted"),
            (status = 404, description = "No such note in the caller's tenant", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "A concurrent request changed the same data; nothing was changed, retry", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn delete_note() {}
}
