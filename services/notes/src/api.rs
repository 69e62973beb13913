//! The wire types of the notes API (shared with its client).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Note, NoteId};

/// Body of `POST /notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNote {
    /// 1–200 characters after trimming, one line.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// At most 32 KiB of UTF-8; newline and tab are the only control characters allowed.
    #[serde(default)]
    pub body: String,
}

/// Body of `PUT /notes/{note_id}`: the full new content and the version it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNote {
    /// 1–200 characters after trimming, one line.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// At most 32 KiB of UTF-8.
    pub body: String,
    /// The version read; a stale one is refused with 409.
    #[schema(minimum = 1)]
    pub version: u64,
}

/// Response of `GET /notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteList {
    /// Newest first.
    pub items: Vec<Note>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Default and bounds of `limit` on `GET /notes`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

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

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<CreateNote>(r#"{"title":"a","tenant_id":"x"}"#).is_err());
        assert!(serde_json::from_str::<UpdateNote>(r#"{"title":"a","body":"b"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<CreateNote>(r#"{"title":"a"}"#).expect("body defaults"),
            CreateNote {
                title: "a".into(),
                body: String::new()
            }
        );
    }
}
