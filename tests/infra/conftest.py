"""Fixtures for the infra tests: boto3 clients on the applied local stack.

Tests marked `live` need the stack (make up); they are skipped, not failed,
when AWS_ENDPOINT_URL is unset, so the pure checker tests run anywhere.
`make test-infra` always sets it.
"""

import os

import boto3
import pytest

from settings import ENV, PROJECT, REGION


def pytest_configure(config):
    config.addinivalue_line("markers", "live: needs the applied local stack")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("AWS_ENDPOINT_URL"):
        return
    skip = pytest.mark.skip(reason="AWS_ENDPOINT_URL unset: local stack not targeted (make test-infra)")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def aws():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    session = boto3.Session(region_name=REGION)
    return session.client


@pytest.fixture(scope="session")
def platform(aws):
    """The platform's published interface: /<project>/<env>/platform/* in SSM."""
    prefix = f"/{PROJECT}/{ENV}/platform/"
    values = {}
    for page in aws("ssm").get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=True):
        values.update({p["Name"][len(prefix):]: p["Value"] for p in page["Parameters"]})
    assert values, f"no platform parameters under {prefix}: is the stack up?"
    return values


@pytest.fixture(scope="session")
def execution_roles(platform):
    """service -> execution role ARN."""
    key = "execution_role_arn/"
    return {k[len(key):]: v for k, v in platform.items() if k.startswith(key)}


@pytest.fixture(scope="session")
def account_id(aws):
    return aws("sts").get_caller_identity()["Account"]


@pytest.fixture(scope="session")
def apigw(aws):
    return aws("apigatewayv2")


@pytest.fixture(scope="session")
def routes(apigw, platform):
    """Every route of the platform's HTTP API."""
    return apigw.get_routes(ApiId=platform["api_id"])["Items"]


@pytest.fixture(scope="session")
def integrations(apigw, platform):
    """Integration id -> the integration."""
    return {i["IntegrationId"]: i for i in apigw.get_integrations(ApiId=platform["api_id"])["Items"]}
