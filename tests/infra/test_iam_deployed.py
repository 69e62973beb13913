"""The tenant role and execution roles, as deployed (read back through IAM)."""

import pytest

from policy_checks import (
    TENANT_TAG_VARIABLE,
    allows,
    as_list,
    check_execution_policy,
    check_tenant_data_policy,
    check_tenant_trust_policy,
    condition_values,
)
from settings import PREFIX, REGION

pytestmark = pytest.mark.live


def role_name(arn):
    return arn.rsplit("/", 1)[-1]


def inline_policies(iam, role):
    names = [n for page in iam.get_paginator("list_role_policies").paginate(RoleName=role) for n in page["PolicyNames"]]
    return {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}


@pytest.fixture(scope="module")
def iam(aws):
    return aws("iam")


@pytest.fixture(scope="module")
def tenant_role(iam, platform):
    return iam.get_role(RoleName=platform["tenant_role_name"])["Role"]


@pytest.fixture(scope="module")
def tenant_policies(iam, platform):
    return inline_policies(iam, platform["tenant_role_name"])


def test_tenant_role_trusts_exactly_the_execution_roles(tenant_role, execution_roles):
    assert set(execution_roles) == {"notes", "users", "tenants", "token-claims"}
    assert check_tenant_trust_policy(tenant_role["AssumeRolePolicyDocument"], execution_roles.values()) == []
    assert tenant_role["MaxSessionDuration"] == 3600


def test_tenant_role_has_no_managed_policies(iam, platform):
    attached = iam.list_attached_role_policies(RoleName=platform["tenant_role_name"])["AttachedPolicies"]
    assert attached == []


def test_tenant_role_carries_the_notes_policy(tenant_policies):
    assert "notes-tenant-data" in tenant_policies


def test_every_tenant_role_policy_is_tenant_scoped(tenant_policies):
    problems = [p for name, doc in tenant_policies.items() for p in check_tenant_data_policy(doc, name)]
    assert problems == []


def test_notes_policy_grants_item_actions_on_the_notes_table_only(tenant_policies, account_id):
    (statement,) = allows(tenant_policies["notes-tenant-data"])
    assert sorted(as_list(statement["Action"])) == sorted(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    )
    assert as_list(statement["Resource"]) == [f"arn:aws:dynamodb:{REGION}:{account_id}:table/{PREFIX}-notes"]
    # The literal policy variable, not an interpolated (empty) Terraform value.
    assert condition_values(statement, "ForAllValues:StringEquals", "dynamodb:LeadingKeys") == [TENANT_TAG_VARIABLE]


def test_tenant_policy_tables_exist(aws, tenant_policies):
    dynamodb = aws("dynamodb")
    for doc in tenant_policies.values():
        for st in allows(doc):
            for arn in as_list(st.get("Resource")):
                table = arn.split(":table/", 1)[1].split("/", 1)[0]
                assert dynamodb.describe_table(TableName=table)["Table"]["TableArn"] in arn


def test_execution_roles_reach_only_the_tenant_role_and_own_logs(iam, execution_roles, platform, account_id):
    for service, arn in execution_roles.items():
        role = role_name(arn)
        log_group = f"arn:aws:logs:{REGION}:{account_id}:log-group:/aws/lambda/{PREFIX}-{service}"
        policies = inline_policies(iam, role)
        assert policies, f"{role} has no inline policy"
        problems = [p for n, d in policies.items() for p in check_execution_policy(d, platform["tenant_role_arn"], log_group, n)]
        assert problems == []
        granted_sts = [st for d in policies.values() for st in allows(d) if any(a.startswith("sts:") for a in as_list(st["Action"]))]
        assert granted_sts, f"{role} cannot assume the tenant role"
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_execution_roles_trust_lambda_only(iam, execution_roles):
    for arn in execution_roles.values():
        doc = iam.get_role(RoleName=role_name(arn))["Role"]["AssumeRolePolicyDocument"]
        principals = [st["Principal"] for st in allows(doc)]
        assert principals == [{"Service": "lambda.amazonaws.com"}]
