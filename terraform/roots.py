#!/usr/bin/env python3
"""Apply, plan, validate or inspect the four Terraform roots, in order.

The same code for AWS and the local emulator: the AWS_* environment says
where the API is (local/stack.sh points it at the emulator); this program
only knows the roots, their function packages and their variables.

    terraform/roots.py apply --env dev --backend terraform/backend/dev.s3.tfbackend
    terraform/roots.py plan --env local --backend ... --roots notes,users
    terraform/roots.py validate
    terraform/roots.py output --env local --backend ... platform app_client_id

`plan` exits 2 when any root has changes. Packages default to
<packages>/<fn>/bootstrap.zip; NOTES_PACKAGE, USERS_PACKAGE, TENANTS_PACKAGE
and TOKEN_CLAIMS_PACKAGE override one each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TERRAFORM = Path(__file__).resolve().parent
REPO = TERRAFORM.parent
ROOTS = ("platform", "notes", "users", "tenants")
# The function package each root deploys, as (terraform variable, function).
PACKAGES = {
    "platform": ("token_claims_package", "token-claims"),  # the Cognito trigger
    "notes": ("package_path", "notes"),
    "users": ("package_path", "users"),
    "tenants": ("package_path", "tenants"),
}


class Refused(Exception):
    """A user-facing error, printed without a traceback."""


def log(message: str) -> None:
    print(f"[roots] {message}", file=sys.stderr, flush=True)


def select(wanted: str | None) -> list[str]:
    """The roots named in `wanted` ("a,b" or "a b"), in apply order; all if empty."""
    names = (wanted or "").replace(",", " ").split()
    unknown = [name for name in names if name not in ROOTS]
    if unknown:
        raise Refused(f"unknown root {unknown[0]!r} (roots: {', '.join(ROOTS)})")
    return [root for root in ROOTS if not names or root in names]


def package_env(function: str) -> str:
    """token-claims -> TOKEN_CLAIMS_PACKAGE"""
    return function.upper().replace("-", "_") + "_PACKAGE"


def package(root: str, packages: Path, environ: dict[str, str]) -> Path:
    """The root's zip, absolute (terraform -chdir would read a relative one from the root)."""
    _, function = PACKAGES[root]
    given = environ.get(package_env(function))
    return Path(given).resolve() if given else (packages / function / "bootstrap.zip").resolve()


@dataclass
class Run:
    """One invocation: which roots, in which environment, with what."""

    env: str
    roots: list[str]
    backend: Path | None = None
    packages: Path = REPO / "target" / "lambda-local"
    arch: str = "x86_64"
    # Extra "-var" values per root, e.g. {"platform": ["jwt_issuer=..."]}.
    extra_vars: dict[str, list[str]] = field(default_factory=dict)
    var_files: dict[str, list[Path]] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def data_dir(self, root: str) -> Path:
        # Working data per environment (the emulator's per port), not in terraform/<root>/.terraform.
        scope = f"local-{self.environ.get('MOTO_PORT', '5055')}" if self.env == "local" else self.env
        return REPO / ".local" / "tf" / scope / root

    def variables(self, root: str) -> list[str]:
        """The root's -var and -var-file arguments: later ones override earlier ones."""
        args = [f"-var=env={self.env}"]
        name, _ = PACKAGES[root]
        args.append(f"-var={name}={package(root, self.packages, self.environ)}")
        if root == "platform":
            args.append(f"-var=architecture={self.arch}")  # published to the services
        env_file = TERRAFORM / root / f"{self.env}.tfvars"
        files = ([env_file] if env_file.is_file() else []) + self.var_files.get(root, [])
        args += [f"-var-file={path.resolve()}" for path in files]
        args += [f"-var={value}" for value in self.extra_vars.get(root, [])]
        return args

    def check_packages(self) -> None:
        for root in self.roots:
            path = package(root, self.packages, self.environ)
            if not path.is_file():
                variable = package_env(PACKAGES[root][1])
                raise Refused(f"{path} not found: run make package-local (or make build for AWS), or set {variable}")


def terraform_environ(environ: dict[str, str], work: Path = REPO / ".local") -> dict[str, str]:
    """Terraform's settings: the provider mirror when there is one, else a
    plugin cache; the CLI configuration and the cache go under `work`."""
    env = dict(environ, TF_IN_AUTOMATION="1")
    work.mkdir(parents=True, exist_ok=True)
    mirror = Path(environ.get("TF_MIRROR", "/opt/tf-plugins"))
    if mirror.is_dir():
        # Only the aws provider is mirrored; `direct` must exclude it, or init
        # also asks the registry for its versions and fails offline.
        config = work / "terraformrc"
        aws = '"registry.terraform.io/hashicorp/aws"'
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = [{aws}]\n  }}\n'
            f"  direct {{\n    exclude = [{aws}]\n  }}\n}}\n"
        )
        env["TF_CLI_CONFIG_FILE"] = str(config)
    else:
        cache = Path(environ.get("TF_PLUGIN_CACHE_DIR", work / "tf-plugin-cache"))
        cache.mkdir(parents=True, exist_ok=True)
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    if not sys.stdout.isatty():
        for command in ("init", "plan", "apply", "validate", "output"):
            env[f"TF_CLI_ARGS_{command}"] = "-no-color"
    return env


class Terraform:
    def __init__(self, run: Run):
        self.run = run
        self.environ = terraform_environ(run.environ)

    def __call__(self, root: str, *args: str, data_dir: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
        env = dict(self.environ, TF_DATA_DIR=str(data_dir or self.run.data_dir(root)))
        return subprocess.run(["terraform", f"-chdir={TERRAFORM / root}", *args], env=env, **kwargs)

    def init(self, root: str) -> None:
        data = self.run.data_dir(root)
        data.mkdir(parents=True, exist_ok=True)
        result = self(
            root, "init", "-input=false", "-reconfigure", "-lockfile=readonly",
            f"-backend-config={self.run.backend}", capture_output=True, text=True,
        )  # fmt: skip
        (data.parent / f"init-{root}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise Refused(f"terraform init failed in {root}")


def apply(run: Run) -> int:
    run.check_packages()
    terraform = Terraform(run)
    for root in run.roots:
        log(f"apply {root} (env {run.env})")
        terraform.init(root)
        if terraform(root, "apply", "-input=false", "-auto-approve", *run.variables(root)).returncode != 0:
            raise Refused(f"apply failed in {root}")
    return 0


def plan(run: Run) -> int:
    terraform = Terraform(run)
    changed = []
    for root in run.roots:
        terraform.init(root)
        code = terraform(root, "plan", "-input=false", "-detailed-exitcode", *run.variables(root)).returncode
        if code == 2:
            changed.append(root)
        elif code != 0:
            raise Refused(f"plan failed in {root}")
    if changed:
        log(f"changes pending in: {' '.join(changed)}")
        return 2
    log(f"no changes in: {' '.join(run.roots)}")
    return 0


def validate(run: Run) -> int:
    terraform = Terraform(run)
    for root in run.roots:
        data = REPO / ".local" / "tf" / "validate" / root
        init = terraform(root, "init", "-input=false", "-backend=false", "-lockfile=readonly",
                         data_dir=data, capture_output=True, text=True)  # fmt: skip
        if init.returncode != 0:
            sys.stderr.write(init.stdout + init.stderr)
            raise Refused(f"terraform init failed in {root}")
        if terraform(root, "validate", data_dir=data).returncode != 0:
            raise Refused(f"{root} is not valid")
    return 0


def status(run: Run) -> int:
    terraform = Terraform(run)
    for root in run.roots:
        if not run.data_dir(root).is_dir():
            log(f"{root}: not initialised")
            continue
        listed = terraform(root, "state", "list", capture_output=True, text=True)
        log(f"{root}: {len(listed.stdout.splitlines())} resources in state")
    return 0


def output(run: Run, root: str, name: str) -> int:
    terraform = Terraform(run)
    terraform.init(root)
    result = terraform(root, "output", "-raw", name, capture_output=True, text=True)
    if result.returncode != 0:
        raise Refused(f"no output {name!r} in {root}: is it applied?")
    print(result.stdout)
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="terraform/roots.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["apply", "plan", "validate", "status", "output"])
    parser.add_argument("output", nargs="*", metavar="ROOT NAME", help="output: the root and the output's name")
    parser.add_argument("--env", default="validate", help="environment name (local for the emulator)")
    parser.add_argument("--backend", type=Path, help="S3 backend file (terraform/backend/)")
    parser.add_argument("--roots", help="a subset of the roots, e.g. notes,users (still in apply order)")
    parser.add_argument("--packages", type=Path, default=REPO / "target" / "lambda-local",
                        help="folder of <fn>/bootstrap.zip")  # fmt: skip
    parser.add_argument("--arch", default="x86_64", choices=["arm64", "x86_64"], help="the packages' architecture")
    parser.add_argument("--var", action="append", default=[], metavar="ROOT:NAME=VALUE", help="one more -var for a root")
    parser.add_argument("--var-file", action="append", default=[], metavar="ROOT:FILE", help="one more -var-file")
    return parser.parse_args(argv)


def per_root(pairs: list[str], flag: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pair in pairs:
        root, sep, value = pair.partition(":")
        if not sep or root not in ROOTS:
            raise Refused(f"{flag} {pair!r}: write ROOT:VALUE with a root of {', '.join(ROOTS)}")
        found.setdefault(root, []).append(value)
    return found


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.env == "local" and "AWS_ENDPOINT_URL" not in os.environ:
        raise Refused("env local is the emulator: use local/stack.sh (make up), which points AWS_ENDPOINT_URL at it")
    if args.command in ("apply", "plan", "status", "output") and not (args.backend and args.backend.is_file()):
        raise Refused("--backend must name an S3 backend file (see terraform/backend/)")
    run = Run(
        env=args.env,
        roots=select(args.roots),
        backend=args.backend.resolve() if args.backend else None,
        packages=args.packages.resolve(),
        arch=args.arch,
        extra_vars=per_root(args.var, "--var"),
        var_files={root: [Path(f) for f in files] for root, files in per_root(args.var_file, "--var-file").items()},
    )
    if args.command == "output":
        if len(args.output) != 2:
            raise Refused("output takes ROOT NAME")
        return output(run, *args.output)
    return {"apply": apply, "plan": plan, "validate": validate, "status": status}[args.command](run)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Refused as refused:
        log(f"error: {refused}")
        sys.exit(1)
