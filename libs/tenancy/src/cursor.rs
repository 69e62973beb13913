//! Opaque list cursors: base64url of `<prefix><id>`. The prefix names the
//! list and its format version, so a cursor is only ever read by the list that
//! handed it out; it carries no tenant (the partition comes from the claims).

use std::fmt::Display;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest cursor text accepted before decoding.
const MAX_CURSOR_LEN: usize = 128;

/// The cursors of one list, e.g. `ListCursor::new("n1:")` for notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    prefix: &'static str,
}

impl ListCursor {
    pub const fn new(prefix: &'static str) -> Self {
        Self { prefix }
    }

    /// The cursor that continues after `id`.
    pub fn encode(self, id: &impl Display) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}{id}", self.prefix))
    }

    /// The id in a cursor this list handed out; `None` for anything else.
    pub fn decode<T: FromStr>(self, text: &str) -> Option<T> {
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        std::str::from_utf8(&bytes).ok()?.strip_prefix(self.prefix)?.parse().ok()
    }
}

/// A page from up to `limit + 1` items in list order: the first `limit`, and
/// the key of the last of them when more followed (the next page's start).
pub fn cut_page<T, K>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next_after = items.last().map(key);
    (items, next_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    #[test]
    fn a_page_continues_after_its_last_item_only_when_more_followed() {
        assert_eq!(cut_page(vec![1, 2, 3], 2, |n| n * 10), (vec![1, 2], Some(20)));
        assert_eq!(cut_page(vec![1, 2], 2, |n| n * 10), (vec![1, 2], None));
        assert_eq!(cut_page(Vec::<i32>::new(), 2, |n| n * 10), (vec![], None));
    }

    const TENANTS: ListCursor = ListCursor::new("t1:");

    #[test]
    fn cursors_round_trip_under_their_own_prefix_only() {
        let id = TenantId::generate();
        let cursor = TENANTS.encode(&id);
        assert_eq!(TENANTS.decode::<TenantId>(&cursor), Some(id));
        assert_eq!(ListCursor::new("n1:").decode::<TenantId>(&cursor), None);
        let raw = id.to_string();
        for bad in [
            "",
            "%%%",
            raw.as_str(),
            &URL_SAFE_NO_PAD.encode(&raw),
            &URL_SAFE_NO_PAD.encode("t1:not-a-uuid"),
            &URL_SAFE_NO_PAD.encode(format!("t2:{raw}")),
            &URL_SAFE_NO_PAD.encode(format!("n1:{raw}")),
            &"A".repeat(4096),
        ] {
            assert_eq!(TENANTS.decode::<TenantId>(bad), None, "{bad}");
        }
    }
}
