//! Notes and their rules. Knows nothing of DynamoDB or HTTP.

use time::OffsetDateTime;

pub use notes_api::{MAX_BODY_BYTES, MAX_TITLE_CHARS, Note, NoteId};

/// A rule a note's content broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNote {
    #[error("the title must not be blank")]
    BlankTitle,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("the title must be a single line without control characters")]
    TitleHasControlCharacters,
    #[error("the body is longer than {MAX_BODY_BYTES} bytes")]
    BodyTooLong,
    #[error("the body contains control characters other than newline and tab")]
    BodyHasControlCharacters,
}

/// Validated note content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteContent {
    title: String,
    body: String,
}

impl NoteContent {
    /// Validates a title (trimmed) and a body (kept as written).
    pub fn new(title: &str, body: &str) -> Result<Self, InvalidNote> {
        let title = title.trim();
        if title.is_empty() {
            return Err(InvalidNote::BlankTitle);
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(InvalidNote::TitleTooLong);
        }
        if title.chars().any(char::is_control) {
            return Err(InvalidNote::TitleHasControlCharacters);
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(InvalidNote::BodyTooLong);
        }
        if body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(InvalidNote::BodyHasControlCharacters);
        }
        Ok(Self { title: title.to_owned(), body: body.to_owned() })
    }
}

/// Now, to the millisecond (what clients see and what is stored).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// How notes come to be and change (the wire type [`Note`] lives in `notes-api`).
pub trait NoteRules: Sized {
    /// A new note at version 1.
    fn create(content: NoteContent, at: OffsetDateTime) -> Self;
    /// The next version of this note with new content.
    fn revise(&self, content: NoteContent, at: OffsetDateTime) -> Self;
}

impl NoteRules for Note {
    fn create(content: NoteContent, at: OffsetDateTime) -> Self {
        Self {
            id: NoteId::generate(),
            title: content.title,
            body: content.body,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    fn revise(&self, content: NoteContent, at: OffsetDateTime) -> Self {
        Self {
            title: content.title,
            body: content.body,
            version: self.version + 1,
            updated_at: at.max(self.updated_at),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_validated() {
        assert_eq!(NoteContent::new("  ", "x"), Err(InvalidNote::BlankTitle));
        assert_eq!(NoteContent::new(&"t".repeat(201), ""), Err(InvalidNote::TitleTooLong));
        assert!(NoteContent::new(&"é".repeat(200), "").is_ok(), "the limit counts characters, not bytes");
        assert_eq!(NoteContent::new("a\nb", ""), Err(InvalidNote::TitleHasControlCharacters));
        assert_eq!(NoteContent::new("t", &"b".repeat(MAX_BODY_BYTES + 1)), Err(InvalidNote::BodyTooLong));
        assert_eq!(NoteContent::new("t", "nul\0"), Err(InvalidNote::BodyHasControlCharacters));
        assert!(NoteContent::new("t", "line one\nline\ttwo\r\n").is_ok());
    }

    #[test]
    fn titles_are_trimmed() {
        let note = Note::create(NoteContent::new("  Groceries ", "").expect("valid"), now());
        assert_eq!(note.title, "Groceries");
    }

    #[test]
    fn revising_bumps_the_version_and_keeps_identity() {
        let created = now();
        let note = Note::create(NoteContent::new("a", "b").expect("valid"), created);
        let revised = note.revise(NoteContent::new("c", "d").expect("valid"), created + time::Duration::SECOND);
        assert_eq!((revised.id, revised.version, revised.created_at), (note.id, 2, created));
        assert_eq!((revised.title.as_str(), revised.body.as_str()), ("c", "d"));
        assert!(revised.updated_at > note.updated_at);
    }

    #[test]
    fn timestamps_serialize_as_rfc3339() {
        let note = Note::create(NoteContent::new("a", "").expect("valid"), now());
        let json = serde_json::to_value(&note).expect("json");
        let created = json["created_at"].as_str().expect("string");
        assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    }
}
