"""Checks of IAM policy documents, shared by the live tests and their unit tests.

Each check returns a list of problems (empty = fine), so a unit test can feed a
deliberately broken document and see the check fail.
"""

import re

TENANT_TAG_VARIABLE = "${aws:PrincipalTag/TenantId}"

# Item-level actions that honour dynamodb:LeadingKeys. Scan is never allowed.
TENANT_DATA_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}

TABLE_OR_INDEX_ARN = re.compile(
    r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]+(/index/[A-Za-z0-9_.-]+)?$"
)


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document):
    return as_list(document.get("Statement"))


def allows(document):
    return [s for s in statements(document) if s.get("Effect") == "Allow"]


def condition_values(statement, operator, key):
    """Values of one condition, or None when absent (keys are case-insensitive)."""
    block = statement.get("Condition", {}).get(operator, {})
    for k, v in block.items():
        if k.lower() == key.lower():
            return as_list(v)
    return None


def shape_problems(statement, where):
    """Negated elements make an Allow far broader than it reads."""
    return [f"{where}: uses {k}" for k in ("NotAction", "NotResource", "NotPrincipal") if k in statement]


def each_allow(document, name, problems):
    """Each Allow statement as (where, statement); negated elements go to `problems`."""
    for i, st in enumerate(allows(document)):
        where = f"{name} statement {st.get('Sid', i)}"
        problems += shape_problems(st, where)
        yield where, st


def check_tenant_data_policy(document, name="policy"):
    """A tenant role permission policy: tenant-keyed DynamoDB item access only."""
    problems = []
    for where, st in each_allow(document, name, problems):
        actions = as_list(st.get("Action"))
        resources = as_list(st.get("Resource"))
        for action in actions:
            if "*" in action:
                problems.append(f"{where}: wildcard action {action!r}")
            elif action.lower() == "dynamodb:scan":
                problems.append(f"{where}: grants dynamodb:Scan")
            elif action not in TENANT_DATA_ACTIONS:
                problems.append(f"{where}: action {action!r} is not a tenant-keyed item action")
        if not resources:
            problems.append(f"{where}: no explicit Resource")
        for resource in resources:
            if resource.endswith("*") or not TABLE_OR_INDEX_ARN.match(resource):
                problems.append(f"{where}: resource {resource!r} is not an explicit table or index ARN")
        if any(a.lower().startswith("dynamodb:") for a in actions):
            leading = condition_values(st, "ForAllValues:StringEquals", "dynamodb:LeadingKeys")
            if leading != [TENANT_TAG_VARIABLE]:
                problems.append(
                    f"{where}: ForAllValues:StringEquals dynamodb:LeadingKeys is {leading!r}, "
                    f"expected [{TENANT_TAG_VARIABLE!r}]"
                )
            if condition_values(st, "Null", "dynamodb:LeadingKeys") != ["false"]:
                problems.append(f"{where}: missing Null dynamodb:LeadingKeys = \"false\" guard")
            if condition_values(st, "ForAnyValue:StringEquals", "dynamodb:LeadingKeys") != [TENANT_TAG_VARIABLE]:
                problems.append(f"{where}: missing ForAnyValue:StringEquals dynamodb:LeadingKeys guard (refuses an empty key list)")
    return problems


def check_tenant_trust_policy(document, execution_role_arns):
    """Only the execution roles, only with exactly one TenantId session tag."""
    problems = []
    expected = set(execution_role_arns)
    seen = set()
    for where, st in each_allow(document, "trust", problems):
        principal = st.get("Principal", {})
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            problems.append(f"{where}: principal {principal!r} is not a list of roles")
            continue
        arns = set(as_list(principal["AWS"]))
        seen |= arns
        if arns - expected:
            problems.append(f"{where}: unexpected principals {sorted(arns - expected)}")
        actions = set(as_list(st.get("Action")))
        if not actions <= {"sts:AssumeRole", "sts:TagSession"}:
            problems.append(f"{where}: unexpected actions {sorted(actions - {'sts:AssumeRole', 'sts:TagSession'})}")
        if condition_values(st, "Null", "aws:RequestTag/TenantId") != ["false"]:
            problems.append(f"{where}: missing Null aws:RequestTag/TenantId = \"false\"")
        if condition_values(st, "ForAllValues:StringEquals", "aws:TagKeys") != ["TenantId"]:
            problems.append(f"{where}: aws:TagKeys is not limited to [\"TenantId\"]")
    if seen != expected:
        problems.append(f"trust principals {sorted(seen)} != execution roles {sorted(expected)}")
    return problems


def check_execution_policy(document, tenant_role_arn, log_group_arn, name="policy"):
    """An execution role: STS on the tenant role only, logs on its own group only."""
    problems = []
    for where, st in each_allow(document, name, problems):
        actions = as_list(st.get("Action"))
        resources = as_list(st.get("Resource"))
        services = {a.split(":")[0] for a in actions}
        if any(a == "*" or a.endswith(":*") for a in actions):
            problems.append(f"{where}: wildcard action in {actions}")
        if services == {"sts"}:
            if resources != [tenant_role_arn]:
                problems.append(f"{where}: sts granted on {resources}, expected only {tenant_role_arn}")
        elif services == {"logs"}:
            if resources != [f"{log_group_arn}:*"]:
                problems.append(f"{where}: logs granted on {resources}, expected only {log_group_arn}:*")
        elif services != {"xray"}:  # X-Ray has no resource-level permissions
            problems.append(f"{where}: unexpected or mixed services {sorted(services)}")
    return problems


def grants(document):
    """The (action, resource) pairs a document allows, literally."""
    return {(a, r) for st in allows(document) for a in as_list(st.get("Action")) for r in as_list(st.get("Resource"))}


def check_exact_grants(document, expected, name="policy"):
    """A service's extra execution-role policy: exactly the expected grants.

    `expected` maps each action to the resource ARNs it may be granted on. Any
    wildcard, negated element, other action or other resource is a problem, and
    so is an expected grant that is missing (the policy drifted from its intent).
    """
    problems = []
    for i, st in enumerate(statements(document)):
        where = f"{name} statement {st.get('Sid', i)}"
        problems += shape_problems(st, where)
        if st.get("Effect") != "Allow":
            continue
        for action in as_list(st.get("Action")):
            if "*" in action:
                problems.append(f"{where}: wildcard action {action!r}")
        resources = as_list(st.get("Resource"))
        if not resources:
            problems.append(f"{where}: no explicit Resource")
        for resource in resources:
            if "*" in resource:
                problems.append(f"{where}: wildcard resource {resource!r}")
    wanted = {(a, r) for a, rs in expected.items() for r in rs}
    granted = grants(document)
    for action, resource in sorted(granted - wanted):
        problems.append(f"{name}: unexpected grant of {action} on {resource}")
    for action, resource in sorted(wanted - granted):
        problems.append(f"{name}: missing grant of {action} on {resource}")
    return problems
