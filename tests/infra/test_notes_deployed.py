"""The notes table and function, as deployed."""

import json

import pytest

from settings import PREFIX

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def table(aws):
    return aws("dynamodb").describe_table(TableName=f"{PREFIX}-notes")["Table"]


def test_notes_table_is_keyed_by_tenant(table):
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"tenant_id": "HASH", "note_id": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {"tenant_id": "S", "note_id": "S"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_notes_table_has_pitr_and_sse(aws, table):
    backups = aws("dynamodb").describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert table["SSEDescription"]["Status"] == "ENABLED"


def test_notes_function_configuration(aws, platform, execution_roles, table):
    config = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-notes")
    assert config["Runtime"] == "provided.al2023"
    assert config["Handler"] == "bootstrap"
    assert config["Role"] == execution_roles["notes"]
    assert config["Environment"]["Variables"] == {
        "NOTES_TABLE": table["TableName"],
        "TENANT_ROLE_ARN": platform["tenant_role_arn"],
        "RUST_LOG": "info",
    }


def test_notes_log_group_has_retention(aws):
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}-notes")["logGroups"]
    assert group.get("retentionInDays")


def test_only_this_api_may_invoke_the_function(aws, platform):
    policy = json.loads(aws("lambda").get_policy(FunctionName=f"{PREFIX}-notes")["Policy"])
    for statement in policy["Statement"]:
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source.startswith(platform["api_execution_arn"] + "/")
