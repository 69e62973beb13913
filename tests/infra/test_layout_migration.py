"""A stack applied by the Terraform layout before one `service` module per
service (commit c61dbef) plans, with the layout that replaced it (commit
3bd19b1, the end of that refactor), to moves only: nothing added, changed or
destroyed in any service root, after the platform has published the three
settings the service roots now read from it. Both sides are pinned: features
added since then change the plan on purpose.

Runs on its own emulator (MOTO_PORT + 200, or LAYOUT_MOTO_PORT), with the same
function packages as the main stack, and takes it down again.
"""

import os
import re
import subprocess
import tempfile

import pytest

from settings import REPO

pytestmark = pytest.mark.live

BEFORE = "c61dbef"  # the last commit of the old layout
AFTER = "3bd19b1"  # the refactored layout, before any later feature
PORT = int(os.environ.get("LAYOUT_MOTO_PORT", int(os.environ.get("MOTO_PORT", "5055")) + 200))


def run(command, cwd=REPO, check=True, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("ROOTS", "SERVICE")}
    environ.update(MOTO_PORT=str(PORT), **env)
    result = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=900)
    if check:
        assert result.returncode == 0, f"{command}: " + result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def checkouts():
    packages = REPO / "target" / "lambda-local"
    # Both layouts deploy the same zips, so only the Terraform differs.
    zips = {
        f"{fn.upper().replace('-', '_')}_PACKAGE": str(packages / fn / "bootstrap.zip")
        for fn in ("notes", "users", "tenants", "token-claims")
    }
    for commit in (BEFORE, AFTER):
        if run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode != 0:
            pytest.skip(f"commit {commit} is not in this clone (shallow?)")
    with tempfile.TemporaryDirectory() as parent:
        old, new = os.path.join(parent, "old"), os.path.join(parent, "new")
        run(["git", "worktree", "add", "--detach", old, BEFORE])
        run(["git", "worktree", "add", "--detach", new, AFTER])
        try:
            yield old, new, zips
        finally:
            # The old checkout started the emulator, so it stops it.
            run([f"{old}/local/stack.sh", "down"], cwd=old, check=False)
            run([f"{new}/local/stack.sh", "down"], cwd=new, check=False)
            for tree in (old, new):
                run(["git", "worktree", "remove", "--force", tree], check=False)


def test_the_old_layout_plans_to_moves_only(checkouts):
    old, new, zips = checkouts
    run([f"{new}/local/stack.sh", "down"], cwd=new, check=False)
    run([f"{old}/local/stack.sh", "up"], cwd=old, **zips)

    run([f"{new}/local/stack.sh", "up"], cwd=new, ROOTS="platform", **zips)
    plan = run([f"{new}/local/stack.sh", "plan"], cwd=new, check=False, ROOTS="notes,users,tenants", **zips)
    output = plan.stdout + plan.stderr
    assert plan.returncode in (0, 2), output[-4000:]
    # Each service root: its objects move into the service module (which the
    # root calls `service`), and nothing else happens.
    assert re.findall(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy", output) == [("0", "0", "0")] * 3, (
        output[-4000:]
    )
    for moved in (
        "module.notes.aws_dynamodb_table.notes has moved to module.service.module.service.module.table",
        "module.users.module.function.aws_lambda_function.this has moved to module.service.module.service",
        "module.tenants.module.tenant_data.aws_iam_role_policy.this has moved to module.service.module.service",
    ):
        assert moved in output, moved
