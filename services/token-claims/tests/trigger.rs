//! The trigger on real Cognito V2_0 event JSON (fixtures in `tests/fixtures`),
//! over the in-memory store: typed event in, typed event out, checked as the
//! JSON Cognito reads.

use aws_lambda_events::cognito::{CognitoEventUserPoolsPreTokenGenTriggerSource, CognitoEventUserPoolsPreTokenGenV2};
use serde_json::{Value, json};
use tenancy::MembershipStatus;
use tenancy::TenantStatus;
use tenancy::authority::{Membership, MemoryAuthorityStore, TenantRecord};
use tenancy::{TenantId, TenantRole, TenantTier, UserId};
use token_claims::trigger::{ActivationError, FakeActivation, SignInError, TENANT_ATTRIBUTE, TokenClaims};

type Trigger = TokenClaims<MemoryAuthorityStore, FakeActivation>;

const MEMBER_FIXTURE: &str = include_str!("fixtures/pre_token_generation_v2_member.json");
const PLATFORM_ADMIN_FIXTURE: &str = include_str!("fixtures/pre_token_generation_v2_platform_admin.json");
/// The ids in the member fixture.
const MEMBER_SUB: &str = "6f1c2b9e-1d2a-4c3b-8e4f-5a6b7c8d9e0f";
const MEMBER_TENANT: &str = "0190b6d2-7c1e-7a3b-9f00-1234567890ab";

fn event(fixture: &str) -> CognitoEventUserPoolsPreTokenGenV2 {
    serde_json::from_str(fixture).expect("the fixture is a V2_0 pre-token-generation event")
}

fn member() -> UserId {
    UserId::parse(MEMBER_SUB).expect("id")
}

fn tenant() -> TenantId {
    TenantId::parse(MEMBER_TENANT).expect("id")
}

fn membership(role: TenantRole, status: MembershipStatus) -> Membership {
    Membership { role, status }
}

fn record(status: TenantStatus, tier: TenantTier) -> TenantRecord {
    TenantRecord { status, tier }
}

/// A store where the fixture's member has `membership` in the fixture's tenant.
fn trigger(membership: Option<Membership>, tenant: Option<TenantRecord>) -> Trigger {
    let store = MemoryAuthorityStore::default();
    if let Some(membership) = membership {
        store.set_membership(self::tenant(), member(), membership);
    }
    if let Some(tenant) = tenant {
        store.set_tenant(self::tenant(), tenant);
    }
    TokenClaims::new(store, FakeActivation::default())
}

async fn answer(trigger: &Trigger, event: CognitoEventUserPoolsPreTokenGenV2) -> Result<Value, SignInError> {
    let answered = trigger.handle(event, "test-request").await?;
    let json = serde_json::to_value(&answered).expect("the response serialises");
    // What goes back to Cognito is again a valid V2_0 event.
    let _: CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_value(json.clone()).expect("round trip");
    Ok(json)
}

#[tokio::test]
async fn an_active_member_gets_the_tenant_claims_in_both_tokens() {
    let trigger = trigger(
        Some(membership(TenantRole::Member, MembershipStatus::Active)),
        Some(record(TenantStatus::Active, TenantTier::Pro)),
    );
    let json = answer(&trigger, event(MEMBER_FIXTURE)).await.expect("allowed");
    let details = &json["response"]["claimsAndScopeOverrideDetails"];
    let expected = json!({"tenant_id": MEMBER_TENANT, "tenant_role": "member", "tenant_tier": "pro"});
    assert_eq!(details["idTokenGeneration"]["claimsToAddOrOverride"], expected, "{json:#}");
    assert_eq!(details["idTokenGeneration"]["claimsToSuppress"], json!([TENANT_ATTRIBUTE]));
    assert_eq!(details["accessTokenGeneration"]["claimsToAddOrOverride"], expected);
    assert_eq!(details["accessTokenGeneration"]["claimsToSuppress"], json!([]));
    // Groups pass through unchanged (an empty override would strip them).
    assert_eq!(
        details["groupOverrideDetails"],
        json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null})
    );
    // The rest of the event is Cognito's, untouched.
    assert_eq!(json["version"], "2");
    assert_eq!(json["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(json["userPoolId"], "us-east-1_Ab12Cd34E");
    assert_eq!(json["callerContext"]["clientId"], "3n4b5urk1ft4fl3mg5e62d9ado");
    assert_eq!(json["request"]["userAttributes"][TENANT_ATTRIBUTE], MEMBER_TENANT);
}

#[tokio::test]
async fn an_active_admin_gets_the_admin_role_and_keeps_its_groups() {
    let trigger = trigger(
        Some(membership(TenantRole::Admin, MembershipStatus::Active)),
        Some(record(TenantStatus::Active, TenantTier::Enterprise)),
    );
    let mut event = event(MEMBER_FIXTURE);
    event.request.group_configuration.groups_to_override = vec!["beta-testers".into()];
    let json = answer(&trigger, event).await.expect("allowed");
    let details = &json["response"]["claimsAndScopeOverrideDetails"];
    for token in ["idTokenGeneration", "accessTokenGeneration"] {
        assert_eq!(
            details[token]["claimsToAddOrOverride"],
            json!({"tenant_id": MEMBER_TENANT, "tenant_role": "admin", "tenant_tier": "enterprise"}),
            "{token}"
        );
    }
    assert_eq!(details["groupOverrideDetails"]["groupsToOverride"], json!(["beta-testers"]));
}

#[tokio::test]
async fn every_unusable_account_is_refused_with_a_generic_message() {
    let active = || Some(record(TenantStatus::Active, TenantTier::Free));
    let member = |status| Some(membership(TenantRole::Member, status));
    type Edit = Box<dyn Fn(&mut CognitoEventUserPoolsPreTokenGenV2)>;
    let cases: Vec<(&str, Trigger, Edit)> = vec![
        (
            "suspended tenant",
            trigger(member(MembershipStatus::Active), Some(record(TenantStatus::Suspended, TenantTier::Pro))),
            Box::new(|_| {}),
        ),
        (
            "pending tenant",
            trigger(member(MembershipStatus::Active), Some(record(TenantStatus::Pending, TenantTier::Pro))),
            Box::new(|_| {}),
        ),
        ("missing tenant record", trigger(member(MembershipStatus::Active), None), Box::new(|_| {})),
        ("disabled membership", trigger(member(MembershipStatus::Disabled), active()), Box::new(|_| {})),
        ("membership being deleted", trigger(member(MembershipStatus::Deleting), active()), Box::new(|_| {})),
        ("missing membership", trigger(None, active()), Box::new(|_| {})),
        (
            "no tenant attribute and not a platform admin",
            trigger(member(MembershipStatus::Active), active()),
            Box::new(|event| {
                event.request.user_attributes.remove(TENANT_ATTRIBUTE);
            }),
        ),
        (
            "malformed tenant attribute",
            trigger(member(MembershipStatus::Active), active()),
            Box::new(|event| {
                event.request.user_attributes.insert(TENANT_ATTRIBUTE.into(), MEMBER_TENANT.to_uppercase());
            }),
        ),
        (
            "no sub",
            trigger(member(MembershipStatus::Active), active()),
            Box::new(|event| {
                event.request.user_attributes.remove("sub");
            }),
        ),
        (
            "suspended tenant on refresh",
            trigger(member(MembershipStatus::Active), Some(record(TenantStatus::Suspended, TenantTier::Pro))),
            Box::new(|event| {
                event.cognito_event_user_pools_header.trigger_source =
                    Some(CognitoEventUserPoolsPreTokenGenTriggerSource::RefreshTokens);
            }),
        ),
    ];
    for (name, trigger, edit) in cases {
        let mut event = event(MEMBER_FIXTURE);
        edit(&mut event);
        let outcome = answer(&trigger, event).await;
        assert_eq!(outcome, Err(SignInError::NotAllowed), "{name}");
        assert!(trigger.activation().calls().is_empty(), "{name}: nothing activated");
    }
    assert_eq!(SignInError::NotAllowed.to_string(), "sign-in is not allowed for this account");
}

#[tokio::test]
async fn a_forged_tenant_attribute_cannot_change_the_tenant() {
    // The member belongs to the fixture's tenant; another tenant is active
    // and has members of its own, but not this user.
    let trigger = trigger(
        Some(membership(TenantRole::Admin, MembershipStatus::Active)),
        Some(record(TenantStatus::Active, TenantTier::Free)),
    );
    let other = TenantId::generate();
    trigger.store().set_tenant(other, record(TenantStatus::Active, TenantTier::Enterprise));
    trigger.store().set_membership(other, UserId::generate(), membership(TenantRole::Admin, MembershipStatus::Active));
    let mut forged = event(MEMBER_FIXTURE);
    forged.request.user_attributes.insert(TENANT_ATTRIBUTE.into(), other.to_string());
    assert_eq!(answer(&trigger, forged).await, Err(SignInError::NotAllowed));

    // The genuine attribute still works, for the genuine tenant only.
    let json = answer(&trigger, event(MEMBER_FIXTURE)).await.expect("allowed");
    assert_eq!(
        json["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]["tenant_id"],
        MEMBER_TENANT
    );
}

#[tokio::test]
async fn a_platform_admin_without_a_tenant_signs_in_without_tenant_claims() {
    let trigger = trigger(None, None);
    let json = answer(&trigger, event(PLATFORM_ADMIN_FIXTURE)).await.expect("allowed");
    assert_eq!(json["response"]["claimsAndScopeOverrideDetails"], Value::Null, "{json:#}");
    assert_eq!(json["request"]["groupConfiguration"]["groupsToOverride"], json!(["platform-admin"]));

    // The same user outside the group is refused.
    let mut outsider = event(PLATFORM_ADMIN_FIXTURE);
    outsider.request.group_configuration.groups_to_override = vec!["platform-admins".into()];
    assert_eq!(answer(&trigger, outsider).await, Err(SignInError::NotAllowed));
}

#[tokio::test]
async fn the_platform_admin_group_does_not_bypass_the_tenant_checks() {
    // A platform admin whose account names a tenant it is not a member of.
    let trigger = trigger(None, Some(record(TenantStatus::Active, TenantTier::Pro)));
    let mut event = event(MEMBER_FIXTURE);
    event.request.group_configuration.groups_to_override = vec!["platform-admin".into()];
    assert_eq!(answer(&trigger, event).await, Err(SignInError::NotAllowed));
}

#[tokio::test]
async fn an_outage_fails_the_sign_in_as_temporarily_unavailable() {
    let trigger = trigger(
        Some(membership(TenantRole::Member, MembershipStatus::Active)),
        Some(record(TenantStatus::Active, TenantTier::Pro)),
    );
    trigger.store().set_unavailable(true);
    assert_eq!(answer(&trigger, event(MEMBER_FIXTURE)).await, Err(SignInError::Unavailable));
    trigger.store().set_unavailable(false);
    assert!(answer(&trigger, event(MEMBER_FIXTURE)).await.is_ok());
}

#[tokio::test]
async fn an_invited_members_first_sign_in_makes_it_active_through_the_users_service() {
    let trigger = trigger(
        Some(membership(TenantRole::Admin, MembershipStatus::Invited)),
        Some(record(TenantStatus::Active, TenantTier::Pro)),
    );
    let mut first = event(MEMBER_FIXTURE);
    first.cognito_event_user_pools_header.trigger_source =
        Some(CognitoEventUserPoolsPreTokenGenTriggerSource::NewPasswordChallenge);
    let json = answer(&trigger, first).await.expect("allowed");
    assert_eq!(
        json["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]["tenant_role"],
        "admin"
    );
    assert_eq!(trigger.activation().calls(), vec![(tenant(), member())]);
}

#[tokio::test]
async fn an_invited_member_is_not_activated_into_a_suspended_tenant() {
    let trigger = trigger(
        Some(membership(TenantRole::Member, MembershipStatus::Invited)),
        Some(record(TenantStatus::Suspended, TenantTier::Free)),
    );
    assert_eq!(answer(&trigger, event(MEMBER_FIXTURE)).await, Err(SignInError::NotAllowed));
    assert!(trigger.activation().calls().is_empty());
}

#[tokio::test]
async fn a_failed_activation_fails_the_sign_in() {
    let trigger = trigger(
        Some(membership(TenantRole::Member, MembershipStatus::Invited)),
        Some(record(TenantStatus::Active, TenantTier::Free)),
    );
    trigger.activation().fail_with(Some(ActivationError::Unavailable("no answer".into())));
    assert_eq!(answer(&trigger, event(MEMBER_FIXTURE)).await, Err(SignInError::Unavailable), "try again");
    trigger.activation().fail_with(Some(ActivationError::Refused("409: the membership is disabled".into())));
    assert_eq!(answer(&trigger, event(MEMBER_FIXTURE)).await, Err(SignInError::NotAllowed));
}

#[tokio::test]
async fn an_active_members_sign_in_activates_nothing() {
    let trigger = trigger(
        Some(membership(TenantRole::Member, MembershipStatus::Active)),
        Some(record(TenantStatus::Active, TenantTier::Free)),
    );
    answer(&trigger, event(MEMBER_FIXTURE)).await.expect("allowed");
    assert!(trigger.activation().calls().is_empty());
}
