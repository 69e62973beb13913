"""changed: which units' jobs a change triggers."""

import json
import subprocess

import pytest

from release import REPO, changed, main, units_for_paths

ALL = ["notes", "users", "tenants", "platform"]

# This workspace's shape, as `cargo metadata --no-deps` reports it (path
# dependencies only matter); a fixture, so the tests do not depend on the
# working tree of the moment.
METADATA = {
    "workspace_root": "/w",
    "packages": [
        {"name": n, "manifest_path": f"/w/{d}/Cargo.toml", "dependencies": [{"name": x, "path": f"/w/{x}"} for x in deps]}
        for n, d, deps in [
            ("tenancy", "libs/tenancy", []),
            ("notes", "services/notes", ["tenancy"]),
            ("users", "services/users", ["tenancy", "users-api"]),
            ("users-api", "services/users/api", ["tenancy"]),
            ("tenants", "services/tenants", ["tenancy", "users-api"]),
            ("token-claims", "services/token-claims", ["tenancy", "users-api"]),
            ("local-gateway", "local/gateway", ["tenancy"]),
        ]
    ]
    + [{"name": "serde", "manifest_path": "/registry/serde/Cargo.toml", "dependencies": []}],
}


@pytest.mark.parametrize(
    "paths, units",
    [
        # a service's own files -> that service
        (["services/notes/src/store.rs"], ["notes"]),
        (["services/notes/CHANGELOG.md"], ["notes"]),
        (["services/users/src/bin/users.rs"], ["users"]),
        (["services/tenants/tests/api.rs"], ["tenants"]),
        (["services/token-claims/src/lib.rs"], ["platform"]),
        # the users API crate -> every crate that depends on it (from metadata)
        (["services/users/api/src/lib.rs"], ["users", "tenants", "platform"]),
        # shared library and workspace files -> everything
        (["libs/tenancy/src/credentials.rs"], ALL),
        (["libs/README.md"], ALL),
        (["Cargo.toml"], ALL),
        (["Cargo.lock"], ALL),
        # Terraform: a service's module or root -> that service
        (["terraform/modules/notes/main.tf"], ["notes"]),
        (["terraform/users/main.tf"], ["users"]),
        (["terraform/tenants/variables.tf", "terraform/modules/tenants/main.tf"], ["tenants"]),
        (["terraform/platform/api.tf"], ["platform"]),
        (["terraform/shared/root.tf"], ALL),
        (["terraform/platform/main.tf"], ["platform"]),
        (["terraform/modules/lambda-service/main.tf"], ALL),
        (["terraform/modules/tenant-data-access/main.tf"], ALL),
        (["terraform/modules/service/main.tf"], ALL),
        (["terraform/modules/tenant-table/variables.tf"], ALL),
        (["terraform/modules/platform-parameters/outputs.tf"], ALL),
        # combinations keep the canonical order
        (["terraform/platform/main.tf", "services/notes/src/lib.rs"], ["notes", "platform"]),
        # no-ops: documentation, tests of the stack, the local gateway, CI
        (["README.md"], []),
        (["terraform/README.md"], []),
        (["tests/infra/test_iam_deployed.py"], []),
        (["local/gateway/src/main.rs"], []),
        (["local/stack.sh"], []),
        ([".github/workflows/ci.yml"], []),
        ([], []),
    ],
)
def test_path_classes(paths, units):
    assert units_for_paths(paths, METADATA) == units


def test_from_cargo_metadata_of_this_workspace():
    from release import cargo_metadata

    metadata = cargo_metadata(REPO)
    assert units_for_paths(["services/notes/src/lib.rs"], metadata) == ["notes"]
    assert set(units_for_paths(["services/users/api/src/lib.rs"], metadata)) >= {"users", "tenants"}


@pytest.fixture
def git_repo(tmp_path):
    def run(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    run("init", "-q", "-b", "main")
    run("config", "user.email", "t@example.com")
    run("config", "user.name", "t")
    (tmp_path / "README.md").write_text("x\n")
    run("add", ".")
    run("commit", "-q", "-m", "base")
    return tmp_path, run


def _commit(repo, run, path, text="x\n"):
    f = repo / path
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    run("add", ".")
    run("commit", "-q", "-m", path)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def test_git_diff_between_two_commits(git_repo):
    repo, run = git_repo
    base = _commit(repo, run, "README.md", "y\n")
    assert changed(repo, base, base, METADATA) == []
    head = _commit(repo, run, "README.md", "z\n")
    assert changed(repo, base, head, METADATA) == []
    head = _commit(repo, run, "services/tenants/src/lib.rs")
    assert changed(repo, base, head, METADATA) == ["tenants"]


def test_new_branch_without_base_is_everything(git_repo):
    repo, _ = git_repo
    assert changed(repo, "0" * 40, "HEAD", METADATA) == ALL


def test_cli_prints_a_job_matrix_and_github_outputs(git_repo, tmp_path_factory, monkeypatch, capsys):
    repo, run = git_repo
    base = _commit(repo, run, "README.md", "y\n")
    # A minimal workspace so the CLI's own `cargo metadata` call works offline.
    (repo / "Cargo.toml").write_text('[workspace]\nresolver = "3"\nmembers = ["services/notes"]\n')
    _commit(repo, run, "services/notes/src/lib.rs")
    (repo / "services/notes/Cargo.toml").write_text('[package]\nname = "notes"\nversion = "0.1.0"\nedition = "2021"\n')
    head = _commit(repo, run, "services/notes/src/lib.rs", "// y\n")
    out = tmp_path_factory.mktemp("gh") / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    # base..head includes the workspace manifest: everything
    assert main(["--root", str(repo), "changed", base, head, "--github-output"]) == 0
    assert json.loads(capsys.readouterr().out) == {"service": ALL}
    assert out.read_text() == 'matrix={"service":["notes","users","tenants","platform"]}\nany=true\n'
    assert main(["--root", str(repo), "changed", f"{head}~1", head]) == 0
    assert json.loads(capsys.readouterr().out) == {"service": ["notes"]}
