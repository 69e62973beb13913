"""Each root deploys on its own: platform, then notes alone, then users alone.

Runs its own emulator on a separate port (MOTO_PORT + 100, or
INDEPENDENT_MOTO_PORT), so it starts from empty state whatever the main stack
holds, and takes it down again. Uses the same function packages as the main
stack (the *_PACKAGE variables, else target/lambda-local).
"""

import os
import subprocess

import boto3
import pytest

from settings import PREFIX, REGION, REPO

pytestmark = pytest.mark.live

PORT = int(os.environ.get("INDEPENDENT_MOTO_PORT", int(os.environ.get("MOTO_PORT", "5055")) + 100))


def stack(command, roots=None, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("ROOTS", "SERVICE")}
    env["MOTO_PORT"] = str(PORT)
    if roots:
        env["ROOTS"] = roots
    result = subprocess.run(
        [str(REPO / "local" / "stack.sh"), command], env=env, capture_output=True, text=True, timeout=600
    )
    if check:
        assert result.returncode == 0, f"stack.sh {command} ({roots}): " + result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def emulator():
    stack("down")
    yield boto3.Session(
        region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    ).client
    stack("down")


def functions(client):
    lam = client("lambda", endpoint_url=f"http://127.0.0.1:{PORT}")
    return {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_platform_then_notes_then_users_each_alone(emulator):
    stack("up", "platform")
    assert functions(emulator) == {f"{PREFIX}-token-claims"}

    stack("up", "notes")
    assert functions(emulator) == {f"{PREFIX}-token-claims", f"{PREFIX}-notes"}
    stack("plan", "platform,notes")  # exit 0: nothing to change

    stack("up", "users")
    assert functions(emulator) == {f"{PREFIX}-token-claims", f"{PREFIX}-notes", f"{PREFIX}-users"}

    # Deploying users changed nothing that notes or the platform manage.
    result = stack("plan", "notes")
    assert "no changes in: notes" in result.stderr
    stack("plan", "platform,users")


def test_a_service_root_needs_the_platform_first(emulator):
    """tenants alone on an emulator without the platform's parameters fails clearly (it reads them from SSM)."""
    stack("down")
    result = stack("up", "tenants", check=False)
    assert result.returncode != 0
    assert "/saas/local/platform/" in result.stdout + result.stderr
