"""terraform/roots.py: which roots run, with which variables, and what a
plan's outcome means, against a fake `terraform` that records its calls."""

import importlib.util
import json
import os
import shutil
import stat
import sys
import uuid
from pathlib import Path

import pytest

ROOTS_PY = Path(__file__).resolve().parents[1] / "roots.py"


@pytest.fixture(scope="module")
def roots():
    spec = importlib.util.spec_from_file_location("roots", ROOTS_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules["roots"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


FAKE = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_TF_CALLS"], "a") as calls:
    calls.write(json.dumps({"args": args, "data": os.environ.get("TF_DATA_DIR")}) + "\\n")
root = args[0].split("/")[-1]
command = args[1]
codes = json.loads(os.environ.get("FAKE_TF_CODES", "{}"))
sys.exit(codes.get(f"{command} {root}", 0))
"""


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch, roots):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(FAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TF_CALLS", str(calls))
    env = f"test{uuid.uuid4().hex[:8]}"
    yield env, lambda: [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    shutil.rmtree(roots.REPO / ".local" / "tf" / env, ignore_errors=True)


@pytest.fixture
def packages(tmp_path):
    folder = tmp_path / "packages"
    for function in ("notes", "users", "tenants", "token-claims"):
        (folder / function).mkdir(parents=True)
        (folder / function / "bootstrap.zip").write_bytes(b"zip")
    return folder


def run(roots, env, packages, **extra):
    return roots.Run(env=env, roots=list(roots.ROOTS), backend=Path("/dev/null"), packages=packages,
                     environ=dict(os.environ, MOTO_PORT="5999"), **extra)


def test_roots_run_in_apply_order_whatever_the_order_asked(roots):
    assert roots.select(None) == ["platform", "notes", "users", "tenants"]
    assert roots.select("tenants,platform") == ["platform", "tenants"]
    assert roots.select(" users  notes ") == ["notes", "users"]
    with pytest.raises(roots.Refused, match="unknown root 'billing'"):
        roots.select("notes,billing")


def test_each_root_gets_its_package_and_the_platform_the_architecture(roots, packages):
    the_run = run(roots, "local", packages, arch="arm64", extra_vars={"platform": ["jwt_issuer=http://x/cognito"]})
    platform = the_run.variables("platform")
    assert platform[:3] == [
        "-var=env=local",
        f"-var=token_claims_package={packages.resolve()}/token-claims/bootstrap.zip",
        "-var=architecture=arm64",
    ]
    # terraform/platform/local.tfvars exists: it comes before the extra values.
    assert platform[3] == f"-var-file={roots.TERRAFORM / 'platform' / 'local.tfvars'}"
    assert platform[-1] == "-var=jwt_issuer=http://x/cognito"
    notes = the_run.variables("notes")
    assert notes == ["-var=env=local", f"-var=package_path={packages.resolve()}/notes/bootstrap.zip"]


def test_a_package_variable_overrides_the_folder(roots, packages, tmp_path):
    own = tmp_path / "own.zip"
    the_run = run(roots, "dev", packages)
    the_run.environ["USERS_PACKAGE"] = str(own)
    assert f"-var=package_path={own}" in the_run.variables("users")
    with pytest.raises(roots.Refused, match="USERS_PACKAGE"):
        the_run.check_packages()


def test_plan_reports_the_roots_with_changes_and_fails_on_errors(roots, fake_terraform, packages, monkeypatch, capsys):
    env, calls = fake_terraform
    assert roots.plan(run(roots, env, packages)) == 0
    assert "no changes in: platform notes users tenants" in capsys.readouterr().err
    planned = [call["args"] for call in calls() if call["args"][1] == "plan"]
    assert [args[0].split("/")[-1] for args in planned] == ["platform", "notes", "users", "tenants"]
    assert all("-detailed-exitcode" in args for args in planned)
    assert all(call["data"].endswith(f"/.local/tf/{env}/{call['args'][0].split('/')[-1]}") for call in calls())

    monkeypatch.setenv("FAKE_TF_CODES", json.dumps({"plan users": 2}))
    assert roots.plan(run(roots, env, packages)) == 2
    assert "changes pending in: users" in capsys.readouterr().err

    monkeypatch.setenv("FAKE_TF_CODES", json.dumps({"plan notes": 1}))
    with pytest.raises(roots.Refused, match="plan failed in notes"):
        roots.plan(run(roots, env, packages))


def test_apply_stops_at_the_first_failing_root(roots, fake_terraform, packages, monkeypatch):
    env, calls = fake_terraform
    monkeypatch.setenv("FAKE_TF_CODES", json.dumps({"apply users": 1}))
    with pytest.raises(roots.Refused, match="apply failed in users"):
        roots.apply(run(roots, env, packages))
    applied = [call["args"][0].split("/")[-1] for call in calls() if call["args"][1] == "apply"]
    assert applied == ["platform", "notes", "users"]
    inits = [call["args"] for call in calls() if call["args"][1] == "init"]
    assert all("-lockfile=readonly" in args and "-backend-config=/dev/null" in args for args in inits)


def test_the_local_environment_needs_the_emulator_and_a_backend(roots, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(roots.Refused, match="env local is the emulator"):
        roots.main(["apply", "--env", "local", "--backend", "/dev/null"])
    with pytest.raises(roots.Refused, match="--backend must name"):
        roots.main(["plan", "--env", "dev", "--backend", "/no/such/file"])
    with pytest.raises(roots.Refused, match="ROOT:VALUE"):
        roots.main(["validate", "--var", "jwt_issuer=x"])


def test_a_provider_mirror_is_used_when_present(roots, tmp_path):
    work = tmp_path / "work"
    env = roots.terraform_environ({"TF_MIRROR": str(tmp_path)}, work)
    config = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    assert env["TF_CLI_CONFIG_FILE"] == str(work / "terraformrc")
    assert f'path    = "{tmp_path}"' in config and "exclude" in config
    env = roots.terraform_environ({"TF_MIRROR": str(tmp_path / "none")}, work)
    assert "TF_CLI_CONFIG_FILE" not in env and env["TF_PLUGIN_CACHE_DIR"] == str(work / "tf-plugin-cache")
    cache = str(tmp_path / "c")
    env = roots.terraform_environ({"TF_MIRROR": str(tmp_path / "none"), "TF_PLUGIN_CACHE_DIR": cache}, work)
    assert env["TF_PLUGIN_CACHE_DIR"] == cache


TERRAFORM = ROOTS_PY.parent


def links_to_shared(path: Path, name: str) -> bool:
    return path.is_symlink() and path.resolve() == (TERRAFORM / "shared" / name).resolve()


@pytest.mark.parametrize("root", ["platform", "notes", "users", "tenants"])
def test_every_root_links_the_shared_files(root):
    # One provider configuration, one set of common settings and one lock
    # file: a root that copied them instead could drift unseen.
    names = [".terraform.lock.hcl", "root.tf"] + ([] if root == "platform" else ["service_root.tf"])
    for name in names:
        assert links_to_shared(TERRAFORM / root / name, name), f"terraform/{root}/{name} must link ../shared/{name}"


@pytest.mark.parametrize("service", ["notes", "users", "tenants"])
def test_every_service_module_links_the_shared_variables(service):
    assert links_to_shared(TERRAFORM / "modules" / service / "variables.tf", "service_module_variables.tf")
