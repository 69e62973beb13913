"""ops/platform_admin.py against an in-process emulator (moto's mock_aws)."""

import importlib.util
import io
import pathlib

import boto3
import pytest
from moto import mock_aws

TOOL = pathlib.Path(__file__).resolve().parents[1] / "platform_admin.py"
PASSWORD = "Operator-passw0rd"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("platform_admin", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def platform(monkeypatch):
    """A deployed platform of saas-test: its pool, group and SSM parameter."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        session = boto3.Session()
        cognito = session.client("cognito-idp")
        pool = cognito.create_user_pool(
            PoolName="saas-test-users",
            UsernameAttributes=["email"],
            Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False}],
        )["UserPool"]["Id"]
        cognito.create_group(GroupName="platform-admin", UserPoolId=pool)
        session.client("ssm").put_parameter(Name="/saas/test/platform/user_pool_id", Value=pool, Type="String")
        yield session, cognito, pool


def groups(cognito, pool, email):
    return [g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"]]


def test_creates_a_platform_admin_with_a_permanent_password_and_no_tenant(tool, platform):
    session, cognito, pool = platform
    done = tool.ensure_platform_admin(session, "saas", "test", " Ops@Example.COM ", lambda: PASSWORD)
    assert "created" in done
    user = cognito.admin_get_user(UserPoolId=pool, Username="ops@example.com")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "ops@example.com"
    assert "custom:tenant_id" not in attributes
    assert user["UserStatus"] == "CONFIRMED"
    assert groups(cognito, pool, "ops@example.com") == ["platform-admin"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    signed_in = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ops@example.com", "PASSWORD": PASSWORD},
    )
    assert "AuthenticationResult" in signed_in


def test_running_it_again_changes_nothing_but_the_group(tool, platform):
    session, cognito, pool = platform
    tool.ensure_platform_admin(session, "saas", "test", "ops@example.com", lambda: PASSWORD)
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="ops@example.com", GroupName="platform-admin")

    def no_password_needed():
        raise AssertionError("an existing user's password is never asked for or changed")

    done = tool.ensure_platform_admin(session, "saas", "test", "ops@example.com", no_password_needed)
    assert "already a user" in done
    assert groups(cognito, pool, "ops@example.com") == ["platform-admin"]


def test_a_tenant_member_is_never_made_a_platform_admin(tool, platform):
    session, cognito, pool = platform
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="member@example.com",
        UserAttributes=[
            {"Name": "email", "Value": "member@example.com"},
            {"Name": "custom:tenant_id", "Value": "0190b6d2-7c1e-7a3b-9f00-1234567890ab"},
        ],
        MessageAction="SUPPRESS",
    )
    with pytest.raises(tool.Refused, match="member of a tenant"):
        tool.ensure_platform_admin(session, "saas", "test", "member@example.com", lambda: PASSWORD)
    assert groups(cognito, pool, "member@example.com") == []


def test_bad_input_and_a_missing_platform_are_refused_plainly(tool, platform, capsys, monkeypatch):
    session, cognito, pool = platform
    with pytest.raises(tool.Refused, match="not an email address"):
        tool.ensure_platform_admin(session, "saas", "test", "ops", lambda: PASSWORD)
    with pytest.raises(tool.Refused, match="is the platform of saas-prod deployed"):
        tool.ensure_platform_admin(session, "saas", "prod", "ops@example.com", lambda: PASSWORD)
    with pytest.raises(tool.Refused, match="no password"):
        tool.read_password(io.StringIO("\n"))
    assert tool.read_password(io.StringIO(PASSWORD + "\n")) == PASSWORD
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert tool.main(["--email", "ops@example.com", "--env", "test"]) == 2
    assert "no password" in capsys.readouterr().err
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
