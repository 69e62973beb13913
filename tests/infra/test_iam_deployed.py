"""The tenant role and execution roles, as deployed (read back through IAM)."""

import pytest

from policy_checks import (
    TENANT_TAG_VARIABLE,
    allows,
    as_list,
    check_exact_grants,
    check_execution_policy,
    check_tenant_data_policy,
    check_tenant_trust_policy,
    condition_values,
)
from settings import PREFIX, REGION

pytestmark = pytest.mark.live

ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]

# Tenant-role inline policy -> (table it covers, the only actions it grants).
TENANT_POLICIES = {
    "notes-tenant-data": ("notes", ITEM_ACTIONS),
    "users-tenant-data": ("memberships", ITEM_ACTIONS),
    # The tenant record; offboarding deletes it.
    "tenants-tenant-data": ("tenants", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]),
    # The audit trail: added to and read, never changed; removed only with the
    # whole trail when the tenant is offboarded.
    "audit-tenant-data": ("audit", ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]),
    # Event outboxes: an event is added with its change, read, and removed once published.
    "outbox-tenant-data": ("outbox", ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]),
}

# Registration claims: written by the tenants execution role only.
SLUGS_TABLE = f"{PREFIX}-tenant-slugs"


def table_arn(account_id, table):
    return f"arn:aws:dynamodb:{REGION}:{account_id}:table/{table}"


def extra_execution_policies(platform, account_id):
    """service -> {policy name: {action: [resources]}}: what each service module
    adds to its execution role (beyond the platform's <service>-execution)."""
    pool = platform["user_pool_arn"]
    slugs = table_arn(account_id, SLUGS_TABLE)
    tenants = table_arn(account_id, f"{PREFIX}-tenants")
    users_fn = f"arn:aws:lambda:{REGION}:{account_id}:function:{PREFIX}-users"
    notes_fn = f"arn:aws:lambda:{REGION}:{account_id}:function:{PREFIX}-notes"
    bus = f"arn:aws:events:{REGION}:{account_id}:event-bus/{PREFIX}-lifecycle"
    cognito = [
        "AdminCreateUser",
        "AdminGetUser",
        "AdminDeleteUser",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminResetUserPassword",
        "AdminSetUserPassword",
        "AdminUserGlobalSignOut",
    ]
    return {
        "notes": {},
        # An invited member's first sign-in: the users service activates it.
        "token-claims": {"token-claims-activation": {"lambda:InvokeFunction": [users_fn]}},
        "users": {
            "users-cognito-admin": {f"cognito-idp:{a}": [pool] for a in cognito},
            "users-lifecycle-events": {"events:PutEvents": [bus]},
        },
        "tenants": {
            "tenants-registration-and-admin": {
                **{a: [slugs] for a in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]},
                # The platform list (tenants) and the registration expiry sweep (slugs).
                "dynamodb:Scan": [slugs, tenants],
                # Registration and suspension ask the users service; offboarding
                # asks the users and notes services to erase the tenant.
                "lambda:InvokeFunction": [users_fn, notes_fn],
                # Platform-admin actions check the caller's group as it is now.
                "cognito-idp:AdminGetUser": [pool],
                "cognito-idp:AdminListGroupsForUser": [pool],
            },
            # Lifecycle events, on the platform's bus only.
            "tenants-lifecycle-events": {"events:PutEvents": [bus]},
        },
    }


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


def test_tenant_role_policies_are_exactly_the_services_tenant_data(tenant_policies):
    assert set(tenant_policies) == set(TENANT_POLICIES)


def test_every_tenant_role_policy_is_tenant_scoped(tenant_policies):
    problems = [p for name, doc in tenant_policies.items() for p in check_tenant_data_policy(doc, name)]
    assert problems == []


@pytest.mark.parametrize("policy", sorted(TENANT_POLICIES))
def test_tenant_policy_grants_its_actions_on_its_own_table_only(tenant_policies, account_id, policy):
    table, actions = TENANT_POLICIES[policy]
    (statement,) = allows(tenant_policies[policy])
    assert sorted(as_list(statement["Action"])) == sorted(actions)
    assert as_list(statement["Resource"]) == [table_arn(account_id, f"{PREFIX}-{table}")]
    # The literal policy variable, not an interpolated (empty) Terraform value.
    assert condition_values(statement, "ForAllValues:StringEquals", "dynamodb:LeadingKeys") == [TENANT_TAG_VARIABLE]
    assert condition_values(statement, "Null", "dynamodb:LeadingKeys") == ["false"]


def test_slugs_table_is_not_reachable_by_the_tenant_role(aws, iam, tenant_policies, platform, account_id):
    slugs = table_arn(account_id, SLUGS_TABLE)
    assert aws("dynamodb").describe_table(TableName=SLUGS_TABLE)["Table"]["TableArn"] == slugs
    reachable = [
        (name, r)
        for name, doc in tenant_policies.items()
        for st in allows(doc)
        for r in as_list(st.get("Resource"))
        if r == slugs or r.startswith(slugs + "/") or "*" in r
    ]
    assert reachable == []
    assert iam.list_attached_role_policies(RoleName=platform["tenant_role_name"])["AttachedPolicies"] == []


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
        assert role == f"{PREFIX}-{service}-exec"
        log_group = f"arn:aws:logs:{REGION}:{account_id}:log-group:/aws/lambda/{PREFIX}-{service}"
        policies = inline_policies(iam, role)
        base = f"{service}-execution"
        assert base in policies, f"{role} has no {base} policy"
        problems = check_execution_policy(policies[base], platform["tenant_role_arn"], log_group, base)
        assert problems == []
        granted_sts = [st for st in allows(policies[base]) if any(a.startswith("sts:") for a in as_list(st["Action"]))]
        assert granted_sts, f"{role} cannot assume the tenant role"
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_execution_roles_extra_policies_are_exactly_the_documented_grants(iam, execution_roles, platform, account_id):
    extras = extra_execution_policies(platform, account_id)
    assert set(extras) == set(execution_roles)
    for service, arn in execution_roles.items():
        policies = inline_policies(iam, role_name(arn))
        assert set(policies) == {f"{service}-execution", *extras[service]}, service
        for name, expected in extras[service].items():
            assert check_exact_grants(policies[name], expected, name) == []


def test_tenants_may_invoke_the_deployed_users_function(aws, account_id):
    users_fn = aws("lambda").get_function_configuration(FunctionName=f"{PREFIX}-users")["FunctionArn"]
    assert users_fn == f"arn:aws:lambda:{REGION}:{account_id}:function:{PREFIX}-users"


def test_execution_roles_trust_lambda_only(iam, execution_roles):
    for arn in execution_roles.values():
        doc = iam.get_role(RoleName=role_name(arn))["Role"]["AssumeRolePolicyDocument"]
        principals = [st["Principal"] for st in allows(doc)]
        assert principals == [{"Service": "lambda.amazonaws.com"}]
