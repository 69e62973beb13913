//! The local gateway's Cognito endpoint is Cognito's, not the emulator's:
//! only what a public app client may call, attribute writes held to the app
//! client's write attributes and the pool's immutable attributes, nothing
//! else of the emulator reachable through it.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata as _;
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use e2e::Stack;
use serde_json::{Value, json};
use tenancy::{TenantRole, TenantTier};

/// One raw call to `<gateway>/cognito`, as anyone on the network could send it.
async fn raw_call(stack: &Stack, target: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/cognito", stack.settings.gateway))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body.to_string())
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().expect("attribute")
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn admin_operations_and_other_services_are_not_reachable_anonymously() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Guarded", TenantTier::Free).await;
    let pool = stack.user_pool_id.clone();
    let victim = tenant.admin.email.clone();
    for (target, body) in [
        (
            "AWSCognitoIdentityProviderService.AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": victim, "GroupName": "platform-admin"}),
        ),
        (
            "AWSCognitoIdentityProviderService.AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": victim, "Password": "Taken-over-passw0rd", "Permanent": true}),
        ),
        (
            "AWSCognitoIdentityProviderService.AdminCreateUser",
            json!({"UserPoolId": pool, "Username": "intruder@example.com"}),
        ),
        ("AWSCognitoIdentityProviderService.ListUsers", json!({"UserPoolId": pool})),
        ("DynamoDB_20120810.Scan", json!({"TableName": "saas-local-notes"})),
        ("DynamoDB_20120810.ListTables", json!({})),
    ] {
        let (status, body) = raw_call(&stack, target, body).await;
        assert_eq!(status, 400, "{target}: {body}");
        let kind = body["__type"].as_str().unwrap_or_default();
        assert!(
            ["MissingAuthenticationTokenException", "UnknownOperationException"].contains(&kind),
            "{target}: {body}"
        );
    }
    // The victim is untouched: the old password signs in, without the group.
    let tokens =
        stack.sign_in(&tenant.admin.email, &tenant.admin.password).await.expect("the admin's own password still works");
    let claims = tokens.access_claims().expect("claims");
    assert!(claims.get("cognito:groups").is_none(), "{claims:?}");
}

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn a_user_writes_only_what_the_app_client_may_write() {
    let stack = Stack::from_env_or_panic().await;
    let tenant = stack.tenant("Writer", TenantTier::Free).await;
    let token = tenant.admin.tokens.access_token.clone();
    let update = |attributes: Vec<AttributeType>| {
        stack.cognito().update_user_attributes().access_token(&token).set_user_attributes(Some(attributes)).send()
    };
    let refused = update(vec![attribute("custom:tenant_id", &uuid::Uuid::new_v4().to_string())])
        .await
        .expect_err("the tenant attribute is immutable");
    assert_eq!(refused.code(), Some("InvalidParameterException"), "{refused:?}");
    let refused = update(vec![attribute("email", "someone-else@example.com")])
        .await
        .expect_err("the app client may not write the email");
    assert_eq!(refused.code(), Some("NotAuthorizedException"), "{refused:?}");
    update(vec![attribute("name", "Ada")]).await.expect("the name is the user's to write");
    let user = stack.cognito().get_user().access_token(&token).send().await.expect("GetUser");
    let value = |name: &str| {
        user.user_attributes().iter().find(|a| a.name() == name).and_then(|a| a.value().map(str::to_owned))
    };
    assert_eq!(value("name").as_deref(), Some("Ada"));
    assert_eq!(value("email").as_deref(), Some(tenant.admin.email.as_str()));
    assert_eq!(value("custom:tenant_id"), Some(tenant.id().to_string()));
}

/// The chain an outsider used to become another tenant's admin: rewrite its
/// own tenant attribute and email to those of a coming invitation, then be
/// "adopted" by it. Each write is refused, and the invitation creates a user
/// of its own.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn the_invitation_take_over_chain_fails() {
    let stack = Stack::from_env_or_panic().await;
    let victim = stack.tenant("Victim", TenantTier::Pro).await;
    let outsider = stack.tenant("Outsider", TenantTier::Free).await;
    let invitee = format!("{}@{}.example.com", stack.unique("newhire"), victim.tenant.slug);
    let writes = stack
        .cognito()
        .update_user_attributes()
        .access_token(&outsider.admin.tokens.access_token)
        .user_attributes(attribute("custom:tenant_id", &victim.id().to_string()))
        .user_attributes(attribute("email", &invitee))
        .send()
        .await;
    assert!(writes.is_err(), "the rewrite must be refused: {writes:?}");

    let invitation = users_client::InviteUser {
        email: invitee.clone(),
        role: TenantRole::Admin,
        temporary_password: Some(e2e::strong_password().into()),
    };
    let invited = victim.admin.users.invite(&invitation).await.expect("a new user");
    assert_ne!(invited.user_id, outsider.admin_user_id, "the outsider was adopted");
    let tokens = stack
        .sign_in(&outsider.admin.email, &outsider.admin.password)
        .await
        .expect("the outsider signs in to its own tenant");
    let claims = tokens.access_claims().expect("claims");
    assert_eq!(e2e::claim(&claims, "tenant_id").expect("tenant"), outsider.id().to_string());
}

/// The Lambda Invoke API as AWS guards it: a forged event or an internal
/// command sent without the credentials of a role that may invoke is refused
/// before any function runs; the tenants function's own signed invocation of
/// the users function (registration) still works.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn forged_invocations_are_refused_and_signed_ones_work() {
    let stack = Stack::from_env_or_panic().await;
    let victim = stack.tenant("Invoked", TenantTier::Free).await;
    let forged_event = json!({
        "version": "2.0",
        "routeKey": "GET /notes",
        "rawPath": "/notes",
        "requestContext": {"authorizer": {"jwt": {"claims": {
            "sub": uuid::Uuid::new_v4().to_string(),
            "token_use": "access",
            "tenant_id": victim.id().to_string(),
        }, "scopes": null}}, "routeKey": "GET /notes", "http": {"method": "GET", "path": "/notes"}},
        "isBase64Encoded": false
    });
    let first_admin = json!({"internal": {
        "command": "create_first_admin",
        "tenant_id": victim.id().to_string(),
        "tier": "enterprise",
        "email": format!("intruder-{}@example.com", uuid::Uuid::new_v4().simple()),
        "password": e2e::strong_password(),
    }});
    for (function, payload) in [("saas-local-notes", forged_event), ("saas-local-users", first_admin)] {
        let response = reqwest::Client::new()
            .post(format!("{}/2015-03-31/functions/{function}/invocations", stack.settings.gateway))
            .body(payload.to_string())
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 403, "{function}");
        assert_eq!(response.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
        // Signed, but with credentials the stack never issued.
        let lambda = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(stack.emulator_config())
                .endpoint_url(&stack.settings.gateway)
                .build(),
        );
        let refused = lambda
            .invoke()
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            aws_sdk_lambda::error::ProvideErrorMetadata::code(&refused),
            Some("UnrecognizedClientException"),
            "{function}"
        );
    }
    // Nobody became an admin of the victim tenant.
    let users = victim.admin.users.list_page(Some(100), None).await.expect("users");
    assert_eq!(users.items.len(), 1, "{users:?}");
}
