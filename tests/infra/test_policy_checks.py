"""The policy checkers fail on broken documents (so the live tests can fail)."""

import copy

import pytest

from policy_checks import check_exact_grants, check_execution_policy, check_tenant_data_policy, check_tenant_trust_policy

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/saas-local-notes"
EXEC = [f"arn:aws:iam::123456789012:role/saas-local-{s}-exec" for s in ("notes", "users")]
TENANT = "arn:aws:iam::123456789012:role/saas-local-tenant"
LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/saas-local-notes"

GOOD_DATA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": TABLE,
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:PrincipalTag/TenantId}"},
                "Null": {"dynamodb:LeadingKeys": "false"},
                "ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": "${aws:PrincipalTag/TenantId}"},
            },
        }
    ],
}

GOOD_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Principal": {"AWS": EXEC},
            "Condition": {
                "Null": {"aws:RequestTag/TenantId": "false"},
                "ForAllValues:StringEquals": {"aws:TagKeys": "TenantId"},
            },
        }
    ],
}

GOOD_EXEC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": TENANT},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": LOGS + ":*"},
    ],
}


def broken(document, mutate):
    doc = copy.deepcopy(document)
    mutate(doc["Statement"][0])
    return doc


def test_good_documents_pass():
    assert check_tenant_data_policy(GOOD_DATA) == []
    assert check_tenant_trust_policy(GOOD_TRUST, EXEC) == []
    assert check_execution_policy(GOOD_EXEC, TENANT, LOGS) == []


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s["Action"].append("dynamodb:Scan"), id="scan"),
        pytest.param(lambda s: s.update(Action="dynamodb:*"), id="dynamodb-star"),
        pytest.param(lambda s: s.update(Action="*"), id="star-action"),
        pytest.param(lambda s: s["Action"].append("dynamodb:Get*"), id="action-pattern"),
        pytest.param(lambda s: s["Action"].append("dynamodb:DescribeTable"), id="non-item-action"),
        pytest.param(lambda s: s.update(Resource=TABLE + "/*"), id="table-slash-star"),
        pytest.param(lambda s: s.update(Resource="arn:aws:dynamodb:us-east-1:123456789012:table/*"), id="table-star"),
        pytest.param(lambda s: s.update(Resource="*"), id="star-resource"),
        pytest.param(lambda s: s.pop("Resource"), id="no-resource"),
        pytest.param(lambda s: s["Condition"].pop("Null"), id="no-null-guard"),
        pytest.param(lambda s: s["Condition"].pop("ForAnyValue:StringEquals"), id="no-for-any-value-guard"),
        pytest.param(lambda s: s["Condition"]["Null"].update({"dynamodb:LeadingKeys": "true"}), id="null-guard-true"),
        pytest.param(lambda s: s["Condition"].pop("ForAllValues:StringEquals"), id="no-leading-keys"),
        pytest.param(
            lambda s: s["Condition"].update({"ForAnyValue:StringEquals": s["Condition"].pop("ForAllValues:StringEquals")}),
            id="for-any-value",
        ),
        pytest.param(
            lambda s: s["Condition"]["ForAllValues:StringEquals"].update({"dynamodb:LeadingKeys": "aws:PrincipalTag/TenantId"}),
            id="leading-keys-not-a-variable",
        ),
        pytest.param(
            lambda s: s["Condition"]["ForAllValues:StringEquals"].update(
                {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/TenantId}", "shared"]}
            ),
            id="leading-keys-extra-value",
        ),
        pytest.param(lambda s: s.update(NotAction="dynamodb:Scan"), id="not-action"),
    ],
)
def test_tenant_data_check_rejects(mutate):
    assert check_tenant_data_policy(broken(GOOD_DATA, mutate))


def test_tenant_data_check_accepts_index_arn():
    doc = broken(GOOD_DATA, lambda s: s.update(Resource=[TABLE, TABLE + "/index/by_title"]))
    assert check_tenant_data_policy(doc) == []


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s["Principal"].update(AWS=EXEC + ["arn:aws:iam::123456789012:root"]), id="extra-principal"),
        pytest.param(lambda s: s["Principal"].update(AWS=EXEC[:1]), id="missing-principal"),
        pytest.param(lambda s: s.update(Principal="*"), id="star-principal"),
        pytest.param(lambda s: s.update(Principal={"Service": "lambda.amazonaws.com"}), id="service-principal"),
        pytest.param(lambda s: s["Condition"].pop("Null"), id="no-tag-required"),
        pytest.param(lambda s: s["Condition"].pop("ForAllValues:StringEquals"), id="any-tag-keys"),
        pytest.param(
            lambda s: s["Condition"]["ForAllValues:StringEquals"].update({"aws:TagKeys": ["TenantId", "Role"]}),
            id="extra-tag-key",
        ),
        pytest.param(lambda s: s["Action"].append("sts:SetSourceIdentity"), id="extra-action"),
    ],
)
def test_trust_check_rejects(mutate):
    assert check_tenant_trust_policy(broken(GOOD_TRUST, mutate), EXEC)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s.update(Resource="*"), id="sts-any-role"),
        pytest.param(lambda s: s.update(Resource="arn:aws:iam::123456789012:role/saas-local-*"), id="sts-role-pattern"),
        pytest.param(lambda s: s.update(Action="sts:*"), id="sts-star"),
        pytest.param(lambda s: s.update(Action=["sts:AssumeRole", "dynamodb:GetItem"]), id="mixed-services"),
        pytest.param(lambda s: s.update(Action="*"), id="star-action"),
    ],
)
def test_execution_check_rejects(mutate):
    assert check_execution_policy(broken(GOOD_EXEC, mutate), TENANT, LOGS)


def test_execution_check_rejects_foreign_log_group():
    doc = copy.deepcopy(GOOD_EXEC)
    doc["Statement"][1]["Resource"] = "arn:aws:logs:us-east-1:123456789012:log-group:*"
    assert check_execution_policy(doc, TENANT, LOGS)


SLUGS = "arn:aws:dynamodb:us-east-1:123456789012:table/saas-local-tenant-slugs"
USERS_FN = "arn:aws:lambda:us-east-1:123456789012:function:saas-local-users"

GOOD_EXTRA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": SLUGS},
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": USERS_FN},
    ],
}
EXPECTED_EXTRA = {"dynamodb:GetItem": [SLUGS], "dynamodb:PutItem": [SLUGS], "lambda:InvokeFunction": [USERS_FN]}


def test_exact_grants_accepts_the_expected_document():
    assert check_exact_grants(GOOD_EXTRA, EXPECTED_EXTRA) == []


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s.update(Resource="*"), id="star-resource"),
        pytest.param(lambda s: s.update(Resource=SLUGS + "/*"), id="table-slash-star"),
        pytest.param(lambda s: s.update(Resource=[SLUGS, TABLE]), id="extra-table"),
        pytest.param(lambda s: s["Action"].append("dynamodb:Scan"), id="extra-action"),
        pytest.param(lambda s: s.update(Action="dynamodb:*"), id="star-action"),
        pytest.param(lambda s: s.update(Action=["dynamodb:GetItem"]), id="missing-grant"),
        pytest.param(lambda s: s.update(NotResource=TABLE), id="not-resource"),
        pytest.param(lambda s: s.pop("Resource"), id="no-resource"),
    ],
)
def test_exact_grants_rejects(mutate):
    assert check_exact_grants(broken(GOOD_EXTRA, mutate), EXPECTED_EXTRA)
