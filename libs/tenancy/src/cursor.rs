//! Opaque list cursors: base64url of `<prefix><id>`. The prefix names the
//! service and format version, so a cursor is only ever read by the list that
//! handed it out; it carries no tenant (the partition comes from the claims).

use std::fmt::Display;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest cursor text accepted before decoding.
const MAX_CURSOR_LEN: usize = 128;

/// The cursor that continues after `id`.
pub fn encode(prefix: &str, id: &impl Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}{id}"))
}

/// The id in a cursor [`encode`] made with `prefix`; `None` for anything else.
pub fn decode<T: FromStr>(prefix: &str, text: &str) -> Option<T> {
    if text.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    std::str::from_utf8(&bytes).ok()?.strip_prefix(prefix)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    #[test]
    fn cursors_round_trip_under_their_own_prefix_only() {
        let id = TenantId::generate();
        let cursor = encode("t1:", &id);
        assert_eq!(decode::<TenantId>("t1:", &cursor), Some(id));
        assert_eq!(decode::<TenantId>("n1:", &cursor), None);
        for bad in [
            "",
            "%%%",
            &id.to_string(),
            &"A".repeat(4096),
            &URL_SAFE_NO_PAD.encode("t1:nope"),
        ] {
            assert_eq!(decode::<TenantId>("t1:", bad), None, "{bad}");
        }
    }
}
