//! Property tests of the list cursor: `Cursor::decode` takes untrusted
//! query text, so it must never panic, accept only what `encode` hands out,
//! and give back exactly what was encoded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use tenancy::TenantId;
use tenants::api::Cursor;

fn id() -> impl Strategy<Value = TenantId> {
    any::<u128>()
        .prop_filter("nil", |bits| *bits != 0)
        .prop_map(|bits| TenantId::parse(&uuid::Uuid::from_u128(bits).hyphenated().to_string()).expect("canonical"))
}

/// Untrusted cursor text: anything, base64 of anything, and base64 of this
/// service's prefix (or another's) followed by anything.
fn cursor_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/-]{0,140}",
        prop::collection::vec(any::<u8>(), 0..100).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        (
            prop::sample::select(vec!["t1:", "n1:", "u1:", "t1:", "", "t1:t1:"]),
            any::<String>()
        )
            .prop_map(|(prefix, rest)| URL_SAFE_NO_PAD.encode(format!("{prefix}{rest}"))),
        // Another prefix (another service's, a later version's, none) before a real id.
        (
            prop::sample::select(vec![
                "n1:", "u1:", "t1:", "n2:", "u2:", "t2:", "", "1:", "PFX", "t1:t1:"
            ]),
            id(),
        )
            .prop_map(|(prefix, id)| URL_SAFE_NO_PAD.encode(format!("{prefix}{id}"))),
        (
            id(),
            0..48usize,
            prop_oneof![
                any::<char>(),
                prop::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9', '-'..='-', '_'..='_'].into())
            ]
        )
            .prop_map(|(id, at, with)| {
                // A real cursor with one character replaced.
                Cursor(id)
                    .encode()
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i == at { with } else { c })
                    .collect()
            }),
    ]
}

proptest! {
    #[test]
    fn decode_never_panics_and_accepts_only_what_encode_writes(text in cursor_text()) {
        if let Some(cursor) = Cursor::decode(&text) {
            prop_assert_eq!(cursor.encode(), text);
        }
    }

    #[test]
    fn decode_of_encode_is_the_identity(id in id()) {
        let cursor = Cursor(id);
        let text = cursor.encode();
        prop_assert!(text.len() <= 128, "{} characters", text.len());
        prop_assert_eq!(Cursor::decode(&text), Some(cursor));
    }
}
