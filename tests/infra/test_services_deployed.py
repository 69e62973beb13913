"""The services' tables and functions (and the token-claims trigger), as deployed."""

import json
import re

import pytest

from settings import ENV, PREFIX, REPO

pytestmark = pytest.mark.live

# Table -> key schema. Tenant data: partition key tenant_id, sort key sk.
TABLES = {
    "notes": {"tenant_id": "HASH", "sk": "RANGE"},
    "memberships": {"tenant_id": "HASH", "sk": "RANGE"},
    "tenants": {"tenant_id": "HASH", "sk": "RANGE"},
    "audit": {"tenant_id": "HASH", "sk": "RANGE"},
    # Registration claims (not tenant data): one item per slug.
    "tenant-slugs": {"slug": "HASH"},
}

FUNCTIONS = ["notes", "users", "tenants", "token-claims"]
API_FUNCTIONS = ["notes", "users", "tenants"]


def registration_expiry_seconds():
    """The tenants root's setting for this env: its <env>.tfvars, else the default (a day)."""
    tfvars = REPO / "terraform" / "tenants" / f"{ENV}.tfvars"
    text = tfvars.read_text() if tfvars.exists() else ""
    found = re.search(r"^registration_expiry_seconds\s*=\s*(\d+)", text, re.MULTILINE)
    return found.group(1) if found else "86400"


def test_the_pool_enforces_the_published_password_policy(aws, platform):
    pool = aws("cognito-idp").describe_user_pool(UserPoolId=platform["user_pool_id"])["UserPool"]
    enforced = pool["Policies"]["PasswordPolicy"]
    published = json.loads(platform["password_policy"])
    # AWS answers every field; moto leaves out the false ones.
    assert {
        "minimum_length": enforced["MinimumLength"],
        "require_lowercase": enforced.get("RequireLowercase", False),
        "require_uppercase": enforced.get("RequireUppercase", False),
        "require_numbers": enforced.get("RequireNumbers", False),
        "require_symbols": enforced.get("RequireSymbols", False),
    } == published


def expected_environment(function, platform):
    common = {"TENANT_ROLE_ARN": platform["tenant_role_arn"], "RUST_LOG": "info"}
    records = {"TENANTS_TABLE": f"{PREFIX}-tenants", "MEMBERSHIPS_TABLE": f"{PREFIX}-memberships"}
    # The services read every caller's authority from the records, cached for the platform's window.
    # ... and write every change's audit entry to the tenants' trail table.
    authority = records | {
        "AUTHORITY_FRESHNESS_SECONDS": platform["authority_freshness_seconds"],
        "AUDIT_TABLE": f"{PREFIX}-audit",
    }
    # The pool's password policy, as the platform published it (one definition).
    passwords = {"PASSWORD_POLICY": platform["password_policy"]}
    return {
        "notes": {"NOTES_TABLE": f"{PREFIX}-notes"} | authority,
        "users": {"USER_POOL_ID": platform["user_pool_id"]} | authority | passwords,
        "tenants": {
            "TENANT_SLUGS_TABLE": f"{PREFIX}-tenant-slugs",
            "USERS_FUNCTION_NAME": f"{PREFIX}-users",
            "USER_POOL_ID": platform["user_pool_id"],
            "REGISTRATION_EXPIRY_SECONDS": registration_expiry_seconds(),
        }
        | authority
        | passwords,
        # The pre-token trigger reads the records fresh, always, and has the
        # users service activate an invited member at its first sign-in.
        "token-claims": records | {"USERS_FUNCTION_NAME": f"{PREFIX}-users"},
    }[function] | common


@pytest.fixture(scope="module", params=sorted(TABLES))
def table(request, aws):
    return aws("dynamodb").describe_table(TableName=f"{PREFIX}-{request.param}")["Table"]


def test_table_keys_and_billing(table):
    keys = TABLES[table["TableName"][len(PREFIX) + 1 :]]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == keys
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {k: "S" for k in keys}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert not table.get("GlobalSecondaryIndexes") and not table.get("LocalSecondaryIndexes")


def test_remembered_creates_and_audit_entries_expire_by_ttl(aws, table):
    # Creates made with an Idempotency-Key are remembered a day (tenancy::replay);
    # audit entries are kept for their tier's retention (tenancy::audit).
    ttl = aws("dynamodb").describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    if table["TableName"].endswith(("-notes", "-memberships", "-audit")):
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_table_has_pitr_and_sse(aws, table):
    backups = aws("dynamodb").describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert table["SSEDescription"]["Status"] == "ENABLED"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_configuration(aws, platform, execution_roles, function):
    config = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-{function}")
    assert config["Runtime"] == "provided.al2023"
    assert config["Handler"] == "bootstrap"
    assert config["Role"] == execution_roles[function]
    assert config["Environment"]["Variables"] == expected_environment(function, platform)


def test_trigger_answers_within_cognitos_limit(aws):
    # Cognito gives a trigger 5 s.
    assert aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-token-claims")["Timeout"] <= 5


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_log_group_has_retention(aws, function):
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}-{function}")["logGroups"]
    assert group.get("retentionInDays")


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_only_this_api_and_its_own_schedule_may_invoke_the_function(aws, platform, function):
    policy = json.loads(aws("lambda").get_policy(FunctionName=f"{PREFIX}-{function}")["Policy"])
    assert policy["Statement"]
    schedules = []
    for statement in policy["Statement"]:
        if statement["Principal"] == {"Service": "events.amazonaws.com"}:
            schedules.append(statement["Condition"]["ArnLike"]["AWS:SourceArn"])
            continue
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source.startswith(platform["api_execution_arn"] + "/")
    # The tenants' registration expiry sweep, and nothing else.
    expected = [f"{PREFIX}-tenants-registration-sweep"] if function == "tenants" else []
    assert [arn.rsplit("/", 1)[-1] for arn in schedules] == expected


def test_the_registration_sweep_runs_on_a_schedule_with_its_one_command(aws):
    events = aws("events")
    rule = events.describe_rule(Name=f"{PREFIX}-tenants-registration-sweep")
    assert rule["ScheduleExpression"].startswith("rate(")
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(f":function:{PREFIX}-tenants")
    assert json.loads(target["Input"]) == {"internal": {"command": "expire_registrations"}}
