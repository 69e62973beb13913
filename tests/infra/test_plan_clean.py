"""Terraform sees no drift right after apply (no perpetual diffs against moto)."""

import subprocess

import pytest

from settings import REPO

pytestmark = pytest.mark.live


def test_plan_reports_no_changes():
    result = subprocess.run(
        [str(REPO / "local" / "stack.sh"), "plan"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
