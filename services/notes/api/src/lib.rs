//! Wire types of the notes service: what `GET/POST /notes` and
//! `GET/PUT/DELETE /notes/{note_id}` read and write. Shared by the service and
//! `notes-client`, so they cannot drift apart.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

tenancy::uuid_id!(
    /// A note; UUIDv7, so ids sort by creation time.
    NoteId,
    "note id"
);

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in bytes of UTF-8.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Default and bounds of `limit` on `GET /notes`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// A note as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub id: NoteId,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    pub body: String,
    /// Starts at 1; every update adds one. Updates must name the version they replace.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Body of `POST /notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateNote {
    /// 1–200 characters after trimming, one line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// At most 32 KiB of UTF-8; newline and tab are the only control characters allowed.
    #[serde(default)]
    pub body: String,
}

/// Body of `PUT /notes/{note_id}`: the full new content and the version it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateNote {
    /// 1–200 characters after trimming, one line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// At most 32 KiB of UTF-8.
    pub body: String,
    /// The version read; a stale one is refused with 409.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub version: u64,
}

/// Response of `GET /notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteList {
    /// Newest first.
    pub items: Vec<Note>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<CreateNote>(r#"{"title":"a","tenant_id":"x"}"#).is_err());
        assert!(serde_json::from_str::<UpdateNote>(r#"{"title":"a","body":"b"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<CreateNote>(r#"{"title":"a"}"#).expect("body defaults"),
            CreateNote { title: "a".into(), body: String::new() }
        );
    }
}
