//! `--output table|json`. JSON is the API's own objects (a list is a JSON
//! array of them), pretty-printed, and nothing else: stdout stays parseable.
//! Tables are for people; their layout may change.

use comfy_table::{ContentArrangement, Table, presets};
use notes_client::Note;
use serde::Serialize;
use tenants_client::{ActorRole, AuditEntry, ErasureReceipt, Registered, Tenant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use users_client::User;

use crate::CliError;

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    #[default]
    Table,
    /// The API's JSON: an object, or an array for lists.
    Json,
}

/// How a resource shows in a table: the columns of a list, and the fields of
/// a single resource (the list's columns unless it has more to show).
pub trait Tabular {
    const COLUMNS: &'static [&'static str];

    fn row(&self) -> Vec<String>;

    fn fields(&self) -> Vec<(&'static str, String)> {
        Self::COLUMNS.iter().copied().zip(self.row()).collect()
    }
}

fn timestamp(at: &OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

impl Tabular for Note {
    const COLUMNS: &'static [&'static str] = &["id", "title", "version", "updated_at"];

    fn row(&self) -> Vec<String> {
        vec![self.id.to_string(), self.title.clone(), self.version.to_string(), timestamp(&self.updated_at)]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.to_string()),
            ("title", self.title.clone()),
            ("body", self.body.clone()),
            ("version", self.version.to_string()),
            ("created_at", timestamp(&self.created_at)),
            ("updated_at", timestamp(&self.updated_at)),
        ]
    }
}

impl Tabular for tenants_client::RegistrationRemoval {
    const COLUMNS: &'static [&'static str] = &["slug", "removed"];

    fn row(&self) -> Vec<String> {
        vec![self.slug.to_string(), self.removed.to_string()]
    }
}

impl Tabular for ErasureReceipt {
    const COLUMNS: &'static [&'static str] = &["tenant_id", "status", "started_at", "finished_at", "removed"];

    fn row(&self) -> Vec<String> {
        let removed = self
            .removed
            .iter()
            .map(|(service, kinds)| {
                let kinds: Vec<String> = kinds.iter().map(|(kind, count)| format!("{kind}={count}")).collect();
                format!("{service}: {}", kinds.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        vec![
            self.tenant_id.to_string(),
            status_text(&self.status),
            self.started_at.as_ref().map(timestamp).unwrap_or_default(),
            self.finished_at.as_ref().map(timestamp).unwrap_or_default(),
            removed,
        ]
    }
}

impl Tabular for saas_client::MailMessage {
    const COLUMNS: &'static [&'static str] = &["id", "to", "kind", "sent_at", "body"];

    fn row(&self) -> Vec<String> {
        vec![self.id.to_string(), self.to.clone(), self.kind.clone(), self.sent_at.clone(), self.body.clone()]
    }
}

impl Tabular for User {
    const COLUMNS: &'static [&'static str] = &["user_id", "email", "role", "status", "version", "updated_at"];

    fn row(&self) -> Vec<String> {
        vec![
            self.user_id.to_string(),
            self.email.clone(),
            self.role.to_string(),
            status_text(&self.status),
            self.version.to_string(),
            timestamp(&self.updated_at),
        ]
    }
}

impl Tabular for Tenant {
    const COLUMNS: &'static [&'static str] = &["tenant_id", "name", "slug", "tier", "status", "version", "updated_at"];

    fn row(&self) -> Vec<String> {
        vec![
            self.tenant_id.to_string(),
            self.name.to_string(),
            self.slug.to_string(),
            self.tier.to_string(),
            self.status.to_string(),
            self.version.to_string(),
            timestamp(&self.updated_at),
        ]
    }
}

impl Tabular for AuditEntry {
    const COLUMNS: &'static [&'static str] = &["at", "actor", "role", "action", "target", "outcome", "request_id"];

    fn row(&self) -> Vec<String> {
        let role = match self.actor.role {
            ActorRole::Admin => "admin",
            ActorRole::Member => "member",
            ActorRole::PlatformAdmin => "platform_admin",
        };
        vec![
            timestamp(&self.at),
            self.actor.user_id.to_string(),
            role.to_owned(),
            self.action.clone(),
            self.target.clone().unwrap_or_default(),
            self.outcome.to_string(),
            self.request_id.clone(),
        ]
    }
}

impl Tabular for Registered {
    const COLUMNS: &'static [&'static str] =
        &["tenant_id", "name", "slug", "tier", "status", "version", "updated_at", "admin_user_id"];

    fn row(&self) -> Vec<String> {
        let mut row = self.tenant.row();
        row.push(self.admin_user_id.to_string());
        row
    }
}

/// The lowercase wire name of an enum (`"active"`), from its serde form.
fn status_text(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

fn json(value: &impl Serialize) -> Result<String, CliError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io(format!("writing JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table
}

/// One resource.
pub fn one<T: Serialize + Tabular>(format: Format, item: &T) -> Result<String, CliError> {
    match format {
        Format::Json => json(item),
        Format::Table => {
            let mut table = new_table();
            for (name, value) in item.fields() {
                table.add_row(vec![name.to_owned(), value]);
            }
            Ok(format!("{table}\n"))
        }
    }
}

/// A list of resources (an empty list is `[]`, or a table with headers only).
pub fn list<T: Serialize + Tabular>(format: Format, items: &[T]) -> Result<String, CliError> {
    match format {
        Format::Json => json(&items),
        Format::Table => {
            let mut table = new_table();
            table.set_header(T::COLUMNS.to_vec());
            for item in items {
                table.add_row(item.row());
            }
            Ok(format!("{table}\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use notes_client::NoteId;
    use serde_json::json;

    use super::*;

    fn note(title: &str) -> Note {
        Note {
            id: NoteId::generate(),
            title: title.into(),
            body: "line one\nline two".into(),
            version: 3,
            created_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time"),
            updated_at: OffsetDateTime::from_unix_timestamp(1_700_000_060).expect("time"),
        }
    }

    #[test]
    fn json_is_the_api_object_and_nothing_else() {
        let item = note("Groceries");
        let text = one(Format::Json, &item).expect("json");
        assert!(text.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&text).expect("parseable");
        assert_eq!(
            value,
            json!({
                "id": item.id.to_string(),
                "title": "Groceries",
                "body": "line one\nline two",
                "version": 3,
                "created_at": "2023-11-14T22:13:20Z",
                "updated_at": "2023-11-14T22:14:20Z",
            })
        );
        // It reads back as the API type.
        assert_eq!(serde_json::from_str::<Note>(&text).expect("a Note"), item);
    }

    #[test]
    fn json_lists_are_arrays_even_when_empty() {
        let items = vec![note("a"), note("b")];
        let text = list(Format::Json, &items).expect("json");
        assert_eq!(serde_json::from_str::<Vec<Note>>(&text).expect("array of notes"), items);
        assert_eq!(list::<Note>(Format::Json, &[]).expect("json"), "[]\n");
    }

    #[test]
    fn tables_show_headers_and_values() {
        let items = vec![note("Groceries"), note("Chores")];
        let text = list(Format::Table, &items).expect("table");
        for column in Note::COLUMNS {
            assert!(text.contains(column), "{column} missing in\n{text}");
        }
        assert!(text.contains("Groceries") && text.contains("Chores"), "{text}");
        assert!(text.contains(&items[0].id.to_string()), "{text}");
        assert!(text.contains("2023-11-14T22:14:20Z"), "{text}");
        // The list leaves bodies out; a single note shows its body.
        assert!(!text.contains("line one"), "{text}");
        let single = one(Format::Table, &items[0]).expect("table");
        assert!(single.contains("body") && single.contains("line one"), "{single}");
        assert!(single.contains("created_at") && single.contains("2023-11-14T22:13:20Z"), "{single}");
    }

    #[test]
    fn enum_values_show_as_on_the_wire() {
        assert_eq!(status_text(&users_client::MembershipStatus::Disabled), "disabled");
        assert_eq!(status_text(&tenants_client::TenantStatus::Suspended), "suspended");
    }
}
