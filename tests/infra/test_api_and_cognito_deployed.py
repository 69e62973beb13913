"""Cognito, the HTTP API, its JWT authorizer and the notes routes, as deployed."""

import pytest

from settings import PREFIX, REGION

pytestmark = pytest.mark.live

NOTES_ROUTES = {"GET /notes", "POST /notes", "GET /notes/{note_id}", "PUT /notes/{note_id}", "DELETE /notes/{note_id}"}


@pytest.fixture(scope="module")
def apigw(aws):
    return aws("apigatewayv2")


@pytest.fixture(scope="module")
def routes(apigw, platform):
    return apigw.get_routes(ApiId=platform["api_id"])["Items"]


@pytest.fixture(scope="module")
def integrations(apigw, platform):
    return {i["IntegrationId"]: i for i in apigw.get_integrations(ApiId=platform["api_id"])["Items"]}


def test_app_client_cannot_write_custom_attributes(aws, platform):
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=platform["user_pool_id"], ClientId=platform["app_client_id"]
    )["UserPoolClient"]
    assert client["WriteAttributes"], "an empty list would mean every writable attribute"
    assert [a for a in client["WriteAttributes"] if a.startswith("custom:")] == []
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert "ClientSecret" not in client


def test_user_pool_signs_in_by_email_and_has_admin_group(aws, platform):
    cognito = aws("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=platform["user_pool_id"])["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=platform["user_pool_id"])["Groups"]}
    assert "platform-admin" in groups


def test_jwt_authorizer_checks_the_pool_issuer_and_client(apigw, platform):
    # get_authorizer, not get_authorizers: moto 5.2.1 does not implement the list call.
    authorizer = apigw.get_authorizer(ApiId=platform["api_id"], AuthorizerId=platform["authorizer_id"])
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{platform['user_pool_id']}"
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


def test_every_route_requires_the_jwt_authorizer(routes, platform):
    assert routes
    for route in routes:
        assert route["AuthorizationType"] == "JWT", route["RouteKey"]
        assert route["AuthorizerId"] == platform["authorizer_id"], route["RouteKey"]


def test_notes_routes_target_the_notes_function(aws, routes, integrations):
    function_arn = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-notes")["FunctionArn"]
    by_key = {r["RouteKey"]: r for r in routes}
    assert NOTES_ROUTES <= set(by_key), f"missing routes: {NOTES_ROUTES - set(by_key)}"
    for key in NOTES_ROUTES:
        target = by_key[key]["Target"]
        assert target.startswith("integrations/"), key
        integration = integrations[target.split("/", 1)[1]]
        assert integration["IntegrationType"] == "AWS_PROXY", key
        assert integration["PayloadFormatVersion"] == "2.0", key
        assert f"/functions/{function_arn}/invocations" in integration["IntegrationUri"], key
