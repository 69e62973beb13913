//! Property tests of the parsers that stand between the caller and a tenant
//! id: `TenantId::parse` (the one canonical spelling IAM compares byte for
//! byte) and `Caller::from_claims` (the only source of a tenant id).

use std::collections::HashMap;

use proptest::prelude::*;
use tenancy::context::claim;
use tenancy::{Caller, ClaimsError, TenantId, TokenUse, UserId};
use uuid::Uuid;

/// Any UUID but nil (nil is refused by design: it is nobody's id).
fn non_nil_uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_filter("nil", |bits| *bits != 0).prop_map(Uuid::from_u128)
}

/// Strings near the canonical form: hex digits, hyphens and a few other
/// characters at about the right length, so parsing gets past the length check.
fn uuid_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F-]{34,38}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9a-fA-F]{8}[-_ ]?[0-9a-fA-F]{4}[-_ ]?[0-9a-fA-F]{4}[-_ ]?[0-9a-fA-F]{4}[-_ ]?[0-9a-fA-F]{12}",
        // One character of a canonical id replaced with anything.
        (non_nil_uuid(), 0..36usize, any::<char>()).prop_map(|(uuid, at, with)| {
            uuid.hyphenated().to_string().chars().enumerate().map(|(i, c)| if i == at { with } else { c }).collect()
        }),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), uuid_like()]
}

/// The spellings of a UUID that are not the canonical one.
fn other_spellings(uuid: Uuid) -> Vec<String> {
    let canonical = uuid.hyphenated().to_string();
    vec![
        canonical.to_uppercase(),
        uuid.simple().to_string(),
        uuid.braced().to_string(),
        uuid.urn().to_string(),
        format!(" {canonical}"),
        format!("{canonical} "),
        format!("{canonical}\n"),
        format!("{canonical}\0"),
    ]
}

proptest! {
    #[test]
    fn tenant_id_parse_never_panics_and_accepts_only_what_it_writes_back(input in any_text()) {
        if let Ok(id) = TenantId::parse(&input) {
            // Accepted means: exactly the canonical text of that id.
            prop_assert_eq!(id.to_string(), input.clone());
            prop_assert_eq!(id.as_uuid().hyphenated().to_string(), input.clone());
            prop_assert!(!id.as_uuid().is_nil());
        }
        // Same rules for every id type.
        if let Ok(id) = UserId::parse(&input) {
            prop_assert_eq!(id.to_string(), input);
        }
    }

    #[test]
    fn every_uuid_round_trips_through_its_canonical_text(uuid in non_nil_uuid()) {
        let text = uuid.hyphenated().to_string();
        let id = TenantId::parse(&text).expect("the canonical form is accepted");
        prop_assert_eq!(id.as_uuid(), uuid);
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(text.parse::<TenantId>(), Ok(id));
        let json = serde_json::to_string(&id).expect("serialize");
        prop_assert_eq!(serde_json::from_str::<TenantId>(&json).expect("deserialize"), id);
    }

    #[test]
    fn every_other_spelling_of_a_uuid_is_refused(uuid in non_nil_uuid()) {
        let canonical = uuid.hyphenated().to_string();
        for spelling in other_spellings(uuid) {
            if spelling != canonical {
                prop_assert!(TenantId::parse(&spelling).is_err(), "{spelling:?} was accepted");
                prop_assert!(serde_json::from_value::<TenantId>(serde_json::Value::String(spelling)).is_err());
            }
        }
    }
}

// --- Claims --------------------------------------------------------------------------

/// One claim's value: absent, valid, nearly valid, or anything.
fn claim_value(valid: Vec<String>) -> impl Strategy<Value = Option<String>> {
    let near: Vec<String> = valid
        .iter()
        .flat_map(|v| {
            [
                v.to_uppercase(),
                format!(" {v}"),
                format!("{v} "),
                format!("{v}\0"),
                format!("[{v}]"),
                format!("\"{v}\""),
                String::new(),
            ]
        })
        .collect();
    prop_oneof![
        2 => Just(None),
        6 => prop::sample::select(valid).prop_map(Some),
        2 => prop::sample::select(near).prop_map(Some),
        2 => any_text().prop_map(Some),
    ]
}

fn id_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        5 => non_nil_uuid().prop_map(|u| Some(u.hyphenated().to_string())),
        1 => non_nil_uuid().prop_map(|u| Some(u.hyphenated().to_string().to_uppercase())),
        1 => Just(Some(Uuid::nil().hyphenated().to_string())),
        2 => any_text().prop_map(Some),
    ]
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[derive(Debug, Clone)]
struct Claims {
    sub: Option<String>,
    token_use: Option<String>,
    tenant_id: Option<String>,
    role: Option<String>,
    tier: Option<String>,
    extra: HashMap<String, String>,
}

impl Claims {
    fn map(&self) -> HashMap<String, String> {
        // Extra claims first, so the named ones (when present) win.
        let mut map = self.extra.clone();
        for (name, value) in [
            (claim::SUBJECT, &self.sub),
            (claim::TOKEN_USE, &self.token_use),
            (claim::TENANT_ID, &self.tenant_id),
            (claim::TENANT_ROLE, &self.role),
            (claim::TENANT_TIER, &self.tier),
        ] {
            match value {
                Some(value) => {
                    map.insert(name.to_owned(), value.clone());
                }
                None => {
                    map.remove(name);
                }
            }
        }
        map
    }
}

fn claims_strategy() -> impl Strategy<Value = Claims> {
    let names = prop_oneof![
        4 => any::<String>(),
        1 => prop::sample::select(strings(&[
            "sub", "token_use", "tenant_id", "tenant_role", "tenant_tier", "cognito:groups", "custom:tenant_id",
            "Tenant_Id", "tenant_id ", "client_id",
        ])),
    ];
    (
        id_value(),
        claim_value(strings(&["id", "access"])),
        id_value(),
        claim_value(strings(&["admin", "member"])),
        claim_value(strings(&["free", "pro", "enterprise"])),
        prop::collection::hash_map(names, any_text(), 0..6),
    )
        .prop_map(|(sub, token_use, tenant_id, role, tier, extra)| Claims {
            sub,
            token_use,
            tenant_id,
            role,
            tier,
            extra,
        })
}

/// What `from_claims` should answer, written independently of it.
fn expected(claims: &HashMap<String, String>) -> Result<Caller, ClaimsError> {
    fn get<'a>(claims: &'a HashMap<String, String>, name: &'static str) -> Result<&'a str, ClaimsError> {
        claims.get(name).map(String::as_str).ok_or(ClaimsError::MissingClaim(name))
    }
    fn canonical(text: &str) -> Option<Uuid> {
        Uuid::try_parse(text).ok().filter(|u| !u.is_nil() && u.hyphenated().to_string() == text)
    }
    let user = claims.get(claim::SUBJECT).and_then(|sub| canonical(sub)).ok_or(ClaimsError::Unauthenticated)?;
    let token_use = match get(claims, claim::TOKEN_USE)? {
        "id" => TokenUse::Id,
        "access" => TokenUse::Access,
        _ => return Err(ClaimsError::MalformedClaim(claim::TOKEN_USE)),
    };
    let tenant = canonical(get(claims, claim::TENANT_ID)?).ok_or(ClaimsError::MalformedClaim(claim::TENANT_ID))?;
    // tenant_role and tenant_tier are never read: the records decide.
    Ok(Caller {
        tenant_id: TenantId::parse(&tenant.hyphenated().to_string()).expect("canonical"),
        user_id: UserId::parse(&user.hyphenated().to_string()).expect("canonical"),
        token_use,
    })
}

/// Characters that mean something to a query language, a path, a log line,
/// a policy variable or a shell.
const INJECTION: &[&str] = &[
    "\"",
    "'",
    "`",
    "\\",
    "/",
    "*",
    "?",
    "$",
    "{",
    "}",
    "[",
    "]",
    "#",
    ":",
    ",",
    ";",
    "=",
    "&",
    "|",
    "%",
    "<",
    ">",
    " ",
    "\t",
    "\n",
    "\r",
    "\0",
    "..",
    "${aws:PrincipalTag/TenantId}",
    "\u{202e}",
    "\u{ff0d}",
];

proptest! {
    #[test]
    fn caller_from_claims_never_panics_and_matches_the_rules(claims in claims_strategy()) {
        let map = claims.map();
        let actual = Caller::from_claims(&map);
        prop_assert_eq!(&actual, &expected(&map));
        if let Ok(caller) = actual {
            // Ok only when every identity claim is valid, and the fields are the claims.
            prop_assert_eq!(Some(caller.tenant_id.to_string()), claims.tenant_id);
            prop_assert_eq!(Some(caller.user_id.to_string()), claims.sub);
            prop_assert_eq!(Some(caller.token_use.to_string()), claims.token_use);
        }
    }

    #[test]
    fn caller_from_claims_never_panics_on_arbitrary_maps(
        map in prop::collection::hash_map(any::<String>(), any::<String>(), 0..8),
    ) {
        let actual = Caller::from_claims(&map);
        prop_assert_eq!(&actual, &expected(&map));
    }

    #[test]
    fn injection_characters_in_tenant_id_are_always_refused(
        tenant in non_nil_uuid(),
        user in non_nil_uuid(),
        injected in prop::sample::select(INJECTION.to_vec()),
        at in 0..=36usize,
        noise in "[a-z0-9-]{0,4}",
    ) {
        let canonical = tenant.hyphenated().to_string();
        let mut tenant_id = canonical.clone();
        tenant_id.insert_str(at, &format!("{injected}{noise}"));
        let map: HashMap<String, String> = [
            (claim::SUBJECT, user.hyphenated().to_string()),
            (claim::TOKEN_USE, "access".to_owned()),
            (claim::TENANT_ID, tenant_id.clone()),
            (claim::TENANT_ROLE, "admin".to_owned()),
            (claim::TENANT_TIER, "pro".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        prop_assert_eq!(
            Caller::from_claims(&map),
            Err(ClaimsError::MalformedClaim(claim::TENANT_ID)),
            "{:?} was accepted", tenant_id
        );
        prop_assert!(TenantId::parse(&tenant_id).is_err());
    }

    #[test]
    fn no_accepted_tenant_id_contains_an_injection_character(input in any_text()) {
        if let Ok(id) = TenantId::parse(&input) {
            prop_assert!(input.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase() || c == '-'));
            prop_assert_eq!(id.to_string(), input);
        }
    }
}
