"""Every log group of the stack is encrypted with the platform's logs KMS key."""

import json

import pytest

from settings import PREFIX

pytestmark = pytest.mark.live


def test_every_log_group_uses_the_platform_logs_key(aws, platform):
    key = platform["logs_kms_key_arn"]
    groups = []
    for prefix in (f"/aws/lambda/{PREFIX}-", f"/aws/apigateway/{PREFIX}-"):
        groups += aws("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    assert len(groups) >= 2, groups
    unencrypted = [g["logGroupName"] for g in groups if g.get("kmsKeyId") != key]
    assert not unencrypted, f"log groups not encrypted with {key}: {unencrypted}"


def test_logs_key_rotates_and_only_serves_this_platforms_log_groups(aws, platform, account_id):
    kms = aws("kms")
    key = platform["logs_kms_key_arn"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    (logs,) = [s for s in policy["Statement"] if s.get("Principal", {}).get("Service", "").startswith("logs.")]
    arns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert all(a.startswith("arn:aws:logs:") and f":{account_id}:log-group:/aws/" in a and f"/{PREFIX}-" in a for a in arns), arns
