"""Print, as JSON, what the IAM isolation suite evaluates: read from the
deployed stack (AWS_ENDPOINT_URL: the local stack), never from Terraform.

- the platform's published names (SSM /<project>/<env>/platform/*);
- the tenant role: trust policy, every inline policy, attached policies;
- every execution role: trust policy, inline and attached policies;
- every DynamoDB table of the stack (<project>-<env>-*) with its indexes.

Run by tests/isolation/deployed.mjs with the repo's .venv python (boto3).
"""

import json
import os
import sys

import boto3

# The names the stack reads itself (Terraform: TF_VAR_project), never a
# generic PROJECT or ENV that a user's shell may hold for something else.
PROJECT = os.environ.get("TF_VAR_project", "saas")
ENV = os.environ.get("SAAS_STACK_ENV", "local")
PREFIX = f"{PROJECT}-{ENV}"
REGION = os.environ.get("AWS_REGION", "us-east-1")


def main():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    session = boto3.Session(region_name=REGION)
    ssm, iam, ddb, sts = (session.client(s) for s in ("ssm", "iam", "dynamodb", "sts"))

    path = f"/{PROJECT}/{ENV}/platform/"
    platform = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True):
        platform.update({p["Name"][len(path):]: p["Value"] for p in page["Parameters"]})

    def role(name):
        r = iam.get_role(RoleName=name)["Role"]
        names = [n for page in iam.get_paginator("list_role_policies").paginate(RoleName=name) for n in page["PolicyNames"]]
        return {
            "name": name,
            "arn": r["Arn"],
            "trust": r["AssumeRolePolicyDocument"],
            "inline": {n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"] for n in names},
            "attached": [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]],
            "permissionsBoundary": r.get("PermissionsBoundary"),
        }

    key = "execution_role_arn/"
    execution = {k[len(key):]: v for k, v in platform.items() if k.startswith(key)}

    tables = {}
    names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    for name in sorted(n for n in names if n.startswith(f"{PREFIX}-")):
        t = ddb.describe_table(TableName=name)["Table"]
        tables[name] = {
            "arn": t["TableArn"],
            "keySchema": t["KeySchema"],
            "indexes": [i["IndexArn"] for i in t.get("GlobalSecondaryIndexes", []) + t.get("LocalSecondaryIndexes", [])],
            "streamArn": t.get("LatestStreamArn"),
        }

    json.dump(
        {
            "prefix": PREFIX,
            "region": REGION,
            "accountId": sts.get_caller_identity()["Account"],
            "platform": platform,
            "tenantRole": role(platform["tenant_role_name"]),
            "executionRoles": {svc: role(arn.rsplit("/", 1)[-1]) for svc, arn in sorted(execution.items())},
            "tables": tables,
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
