"""Cognito (pool, trigger, app client), the HTTP API, its JWT authorizer and
every service's routes, as deployed."""

import json

import pytest

from settings import LOCAL_GATEWAY_ISSUER, ENV, PREFIX, REGION

pytestmark = pytest.mark.live

@pytest.fixture(scope="module")
def pool(aws, platform):
    return aws("cognito-idp").describe_user_pool(UserPoolId=platform["user_pool_id"])["UserPool"]


def test_app_client_cannot_write_custom_attributes(aws, platform):
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=platform["user_pool_id"], ClientId=platform["app_client_id"]
    )["UserPoolClient"]
    assert client["WriteAttributes"], "an empty list would mean every writable attribute"
    assert [a for a in client["WriteAttributes"] if a.startswith("custom:")] == []
    # Nor the email: the sign-in name and the membership's key change only by the services.
    assert client["WriteAttributes"] == ["name"]
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert "ClientSecret" not in client


def test_users_are_created_by_the_services_only(pool):
    # No self sign-up with the public app client id: a stranger cannot take an
    # email address before its owner registers or is invited.
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_the_pool_emails_invitations_and_codes_from_the_configured_templates(pool):
    # terraform/platform variables user_messages and email_sending (defaults).
    invite = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]
    assert "{username}" in invite["EmailMessage"] and "{####}" in invite["EmailMessage"]
    assert invite["EmailSubject"] == "Your account is ready"
    code = pool["VerificationMessageTemplate"]
    assert code["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in code["EmailMessage"]
    assert code["EmailSubject"] == "Your password reset code"
    assert pool["EmailConfiguration"]["EmailSendingAccount"] == "COGNITO_DEFAULT"
    assert [m["Name"] for m in pool["AccountRecoverySetting"]["RecoveryMechanisms"]] == ["verified_email"]


def test_token_lifetimes_are_the_configured_ones(aws, platform):
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=platform["user_pool_id"], ClientId=platform["app_client_id"]
    )["UserPoolClient"]
    # terraform/platform variable token_validity (defaults: 60 min, 60 min, 30 days).
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (60, 60, 30)
    assert client["EnableTokenRevocation"] is True


def test_user_pool_signs_in_by_email_and_has_admin_group(aws, platform, pool):
    cognito = aws("cognito-idp")
    assert pool["UsernameAttributes"] == ["email"]
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=platform["user_pool_id"])["Groups"]}
    assert "platform-admin" in groups


def test_pool_runs_the_token_claims_trigger_v2(aws, pool):
    function_arn = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-token-claims")["FunctionArn"]
    config = pool["LambdaConfig"]
    assert config["PreTokenGenerationConfig"] == {"LambdaVersion": "V2_0", "LambdaArn": function_arn}
    # AWS mirrors the ARN into the legacy field; it must never name another function.
    assert config.get("PreTokenGeneration", function_arn) == function_arn
    assert set(config) <= {"PreTokenGenerationConfig", "PreTokenGeneration"}, "unexpected triggers"


def test_pool_tier_supports_the_v2_trigger(pool):
    # V2_0 needs ESSENTIALS or PLUS. Provider 5.100 never sends the tier on
    # CreateUserPool, so AWS applies its default (ESSENTIALS) and moto reports
    # none: the local stack leaves the tier unmanaged (platform/local.tfvars).
    assert pool.get("UserPoolTier", "ESSENTIALS") in {"ESSENTIALS", "PLUS"}


def test_custom_tenant_id_is_immutable_and_not_client_writable(aws, platform, pool):
    (attribute,) = [a for a in pool["SchemaAttributes"] if a["Name"] == "custom:tenant_id"]
    assert attribute["AttributeDataType"] == "String"
    assert attribute["Mutable"] is False
    assert attribute["DeveloperOnlyAttribute"] is False
    assert attribute["StringAttributeConstraints"] == {"MinLength": "36", "MaxLength": "36"}
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=platform["user_pool_id"], ClientId=platform["app_client_id"]
    )["UserPoolClient"]
    assert "custom:tenant_id" not in client["WriteAttributes"]


def test_only_the_pool_may_invoke_the_trigger(aws, platform):
    policy = json.loads(aws("lambda").get_policy(FunctionName=f"{PREFIX}-token-claims")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == platform["user_pool_arn"]


def test_jwt_authorizer_checks_the_issuer_and_client(apigw, platform):
    # get_authorizer, not get_authorizers: moto 5.2.1 does not implement the list call.
    authorizer = apigw.get_authorizer(ApiId=platform["api_id"], AuthorizerId=platform["authorizer_id"])
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    # On AWS the pool's issuer; locally exactly the local gateway's, which
    # signs the tokens after running the pre-token trigger.
    issuer = LOCAL_GATEWAY_ISSUER if ENV == "local" else f"https://cognito-idp.{REGION}.amazonaws.com/{platform['user_pool_id']}"
    assert platform["jwt_issuer"] == issuer
    assert authorizer["JwtConfiguration"] == {"Issuer": issuer, "Audience": [platform["app_client_id"]]}


def test_default_stage_is_throttled_and_logged(aws, apigw, platform):
    (stage,) = [s for s in apigw.get_stages(ApiId=platform["api_id"])["Items"] if s["StageName"] == "$default"]
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    destination = stage["AccessLogSettings"]["DestinationArn"]
    group = destination.split(":log-group:", 1)[1]
    (found,) = aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert found.get("retentionInDays")
