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
    "outbox": {"tenant_id": "HASH", "sk": "RANGE"},
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
    # Tenants and users publish lifecycle events through the outbox.
    events = {"OUTBOX_TABLE": f"{PREFIX}-outbox", "EVENT_BUS_NAME": f"{PREFIX}-lifecycle"}
    return {
        "notes": {"NOTES_TABLE": f"{PREFIX}-notes"} | authority,
        "users": {"USER_POOL_ID": platform["user_pool_id"]} | authority | passwords | events,
        "tenants": {
            "TENANT_SLUGS_TABLE": f"{PREFIX}-tenant-slugs",
            "USERS_FUNCTION_NAME": f"{PREFIX}-users",
            "NOTES_FUNCTION_NAME": f"{PREFIX}-notes",
            "USER_POOL_ID": platform["user_pool_id"],
            "REGISTRATION_EXPIRY_SECONDS": registration_expiry_seconds(),
            # Offboarding: a week's grace for a tenant's own closure; the erasure
            # waits one authority window plus the services' 10 s request timeout.
            "CLOSURE_GRACE_SECONDS": "604800",
            "ERASURE_SETTLE_SECONDS": str(int(platform["authority_freshness_seconds"]) + 10),
        }
        | authority
        | passwords
        | events,
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
    # The tenants' sweeps (SWEEPS), and nothing else.
    expected = sorted(f"{PREFIX}-tenants-{sweep}" for sweep in SWEEPS) if function == "tenants" else []
    assert sorted(arn.rsplit("/", 1)[-1] for arn in schedules) == expected


# The tenants function's schedules -> the one internal command each sends.
SWEEPS = {
    "registration-sweep": "expire_registrations",
    "events-sweep": "publish_events",
    "offboarding-sweep": "finish_offboarding",
}


@pytest.mark.parametrize("sweep", sorted(SWEEPS))
def test_each_sweep_runs_on_a_schedule_with_its_one_command(aws, sweep):
    events = aws("events")
    rule = events.describe_rule(Name=f"{PREFIX}-tenants-{sweep}")
    assert rule["ScheduleExpression"].startswith("rate(")
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(f":function:{PREFIX}-tenants")
    assert json.loads(target["Input"]) == {"internal": {"command": SWEEPS[sweep]}}


def test_the_lifecycle_bus_feeds_its_queue_and_only_its_rule_may_send(aws, platform):
    events, sqs = aws("events"), aws("sqs")
    bus = platform["event_bus_name"]
    assert bus == f"{PREFIX}-lifecycle"
    assert platform["event_bus_arn"].endswith(f":event-bus/{bus}")
    rule = events.describe_rule(Name=f"{PREFIX}-lifecycle-to-queue", EventBusName=bus)
    assert json.loads(rule["EventPattern"]) == {"source": ["saas.tenants", "saas.users"]}
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-lifecycle-events")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert target["Arn"] == attributes["QueueArn"]
    assert attributes["SqsManagedSseEnabled"] == "true"
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
