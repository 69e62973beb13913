//! Property tests of the list cursors (`tenancy::cursor::ListCursor`), for
//! the prefix of every service that hands cursors out (notes `n1:`, users
//! `u1:`, tenants `t1:`). `decode` takes untrusted query text, so it must
//! never panic, accept only what `encode` writes with the same prefix, and
//! give back exactly what was encoded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use tenancy::TenantId;
use tenancy::cursor::ListCursor;

/// The prefixes the services use (services/*/src: `CURSOR`).
const SERVICE_PREFIXES: [&str; 3] = ["n1:", "u1:", "t1:"];

fn id() -> impl Strategy<Value = TenantId> {
    any::<u128>()
        .prop_filter("nil", |bits| *bits != 0)
        .prop_map(|bits| TenantId::parse(&uuid::Uuid::from_u128(bits).hyphenated().to_string()).expect("canonical"))
}

fn prefix() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SERVICE_PREFIXES.to_vec())
}

/// Untrusted cursor text for a list using `prefix`: anything, base64 of
/// anything, and base64 of this prefix (or another's) followed by anything.
fn cursor_text(prefix: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/-]{0,140}",
        prop::collection::vec(any::<u8>(), 0..100).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        (
            prop::sample::select(vec![prefix, prefix, "n1:", "u1:", "t1:", "", "n1:n1:", "u1:u1:", "t1:t1:"]),
            any::<String>()
        )
            .prop_map(|(prefix, rest)| URL_SAFE_NO_PAD.encode(format!("{prefix}{rest}"))),
        // Another prefix (another service's, a later version's, none) before a real id.
        (
            prop::sample::select(vec![
                "n1:", "u1:", "t1:", "n2:", "u2:", "t2:", "", "1:", "PFX", "n1:n1:", "u1:u1:", "t1:t1:"
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
            .prop_map(move |(id, at, with)| {
                // A real cursor with one character replaced.
                ListCursor::new(prefix)
                    .encode(&id)
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i == at { with } else { c })
                    .collect()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn decode_never_panics_and_accepts_only_what_encode_writes(
        (prefix, text) in prefix().prop_flat_map(|prefix| (Just(prefix), cursor_text(prefix)))
    ) {
        let list = ListCursor::new(prefix);
        if let Some(id) = list.decode::<TenantId>(&text) {
            prop_assert_eq!(list.encode(&id), text);
        }
    }

    #[test]
    fn decode_of_encode_is_the_identity(prefix in prefix(), id in id()) {
        let list = ListCursor::new(prefix);
        let text = list.encode(&id);
        prop_assert!(text.len() <= 128, "{} characters", text.len());
        prop_assert_eq!(list.decode::<TenantId>(&text), Some(id));
    }
}
