#!/usr/bin/env python3
"""Schemathesis against each service's OpenAPI document, through the local gateway.

For each document a fresh tenant is registered through the public
`POST /tenants`, its admin signs in through the gateway's Cognito endpoint
(the real token-claims trigger runs), and schemathesis drives every operation
with that admin's ID token. The platform-admin routes (`/admin/...`) get a
platform operator's token instead (created with the admin API in the
emulator, as tests/e2e does: no route makes one). One tenant per document, so
nothing one run changes (a rename, a role change, a tier) reaches another.

Usage (make test-api-fuzz sets all of it):

    LOCAL_GATEWAY_URL=http://127.0.0.1:4000 AWS_ENDPOINT_URL=http://127.0.0.1:5055 \\
      .venv/bin/python tests/api-fuzz/run.py [--schemathesis PATH] [--max-examples N] [notes users tenants]

Tokens reach schemathesis through the environment (`API_FUZZ_TOKEN`, read by
schemathesis.toml), never on a command line; nothing here prints them.
Exit status: 0 when every run passed, 1 otherwise. A summary line per run
gives the operations and test cases schemathesis reports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import boto3
import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
PLATFORM_ADMIN_GROUP = "platform-admin"


@dataclass(frozen=True)
class Run:
    """One schemathesis invocation: a document, the operations, whose token."""

    name: str
    service: str
    role: str  # "tenant-admin" or "platform-admin"
    include_path_regex: str | None = None
    exclude_path_regex: str | None = None
    exclude_operation_ids: tuple[str, ...] = ()


# notes and users: every operation as the tenant's admin. tenants: the
# tenant's own routes and the public registration as the tenant's admin,
# /admin/... as a platform operator (a tenant admin only ever gets 403 there,
# which tests/e2e already shows). Closing the tenant (DELETE /tenant) is left
# out: its first success would leave every later case a 403 (the handler
# tests and tests/e2e cover it).
RUNS = [
    Run("notes", "notes", "tenant-admin"),
    Run("users", "users", "tenant-admin"),
    Run("tenants", "tenants", "tenant-admin", exclude_path_regex="^/admin/", exclude_operation_ids=("closeOwnTenant",)),
    Run("tenants-admin", "tenants", "platform-admin", include_path_regex="^/admin/"),
]


def log(message: str) -> None:
    print(f"[api-fuzz] {message}", flush=True)


def require_env(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip().rstrip("/")
    if not value:
        sys.exit(f"[api-fuzz] {name} is not set: it must point at {what} (make test-api-fuzz sets it)")
    return value


def strong_password() -> str:
    """Meets the pool's policy: 12+ characters, upper, lower, digit."""
    return f"Pw-{uuid.uuid4().hex}-Aa1"


class Stack:
    """The running stack: the gateway (API + /cognito) and the emulator."""

    def __init__(self, gateway: str, emulator: str, region: str, env: str):
        self.gateway = gateway
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
        ssm = session.client("ssm", endpoint_url=emulator)
        prefix = f"/saas/{env}/platform"

        def parameter(name: str) -> str:
            return ssm.get_parameter(Name=f"{prefix}/{name}")["Parameter"]["Value"]

        self.app_client_id = parameter("app_client_id")
        self.user_pool_id = parameter("user_pool_id")
        # Sign-in through the gateway (the token-claims trigger runs there);
        # the emulator's admin API only to create a platform operator.
        self.cognito = session.client("cognito-idp", endpoint_url=f"{gateway}/cognito")
        self.emulator_cognito = session.client("cognito-idp", endpoint_url=emulator)
        self.run_id = secrets.token_hex(4)

    def sign_in(self, email: str, password: str) -> str:
        """The ID token of a USER_PASSWORD_AUTH sign-in."""
        answer = self.cognito.initiate_auth(
            ClientId=self.app_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        result = answer.get("AuthenticationResult")
        if not result or "IdToken" not in result:
            raise RuntimeError(f"sign-in of {email} gave no tokens (challenge {answer.get('ChallengeName')})")
        return result["IdToken"]

    def register_tenant(self, label: str) -> str:
        """Registers a tenant (enterprise tier: the largest limits, so the
        fuzzer's creates do not run into the tier's caps) and returns its
        admin's ID token."""
        slug = f"fuzz-{label}-{self.run_id}"
        email = f"admin@{slug}.example.com"
        password = strong_password()
        body = json.dumps(
            {
                "name": f"API fuzz {label}",
                "slug": slug,
                "tier": "enterprise",
                "admin_email": email,
                "admin_password": password,
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.gateway}/tenants",
            data=body,
            method="POST",
            # The secret a retry of this registration would prove itself with.
            headers={"content-type": "application/json", "idempotency-key": secrets.token_hex(32)},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
                registered = json.load(response)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"POST /tenants for {slug}: {error.code} {error.read()[:300]!r}") from None
        if status != 201:
            raise RuntimeError(f"POST /tenants for {slug}: expected 201, got {status}")
        log(f"registered tenant {registered['tenant']['tenant_id']} ({slug}) for the {label} run")
        return self.sign_in(email, password)

    def platform_admin(self) -> str:
        """A platform operator (Cognito user in the platform-admin group, no
        tenant) signed in through the gateway; returns the ID token."""
        email = f"operator-{self.run_id}@operators.example.com"
        password = strong_password()
        idp = self.emulator_cognito
        idp.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=email, GroupName=PLATFORM_ADMIN_GROUP)
        log("created a platform operator for the /admin run")
        return self.sign_in(email, password)


def operations(document: Path, run: Run) -> dict[str, re.Pattern]:
    """The run's operations ("METHOD /path/{param}") and a pattern matching their URLs' paths."""
    paths = json.loads(document.read_text())["paths"]
    selected = {}
    for path, item in paths.items():
        if run.include_path_regex and not re.search(run.include_path_regex, path):
            continue
        if run.exclude_path_regex and re.search(run.exclude_path_regex, path):
            continue
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            if operation.get("operationId") not in run.exclude_operation_ids:
                selected[f"{method.upper()} {path}"] = pattern
    return selected


def statuses(cassette: Path, selected: dict[str, re.Pattern]) -> dict[str, Counter]:
    """Status codes per operation, from the VCR cassette schemathesis wrote
    (its requests to undeclared methods or paths are not counted)."""
    with cassette.open() as f:
        recorded = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    tally: dict[str, Counter] = {name: Counter() for name in selected}
    for interaction in recorded.get("http_interactions") or []:
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        method = str(request.get("method", "")).upper()
        path = urllib.parse.urlsplit(str(request.get("uri", ""))).path
        code = str((response.get("status") or {}).get("code", "?"))
        # Literal segments first, as API Gateway matches: /users/me before /users/{user_id}.
        for name, pattern in sorted(selected.items(), key=lambda item: item[0].count("{")):
            if name.split(" ", 1)[0] == method and pattern.match(path):
                tally[name][code] += 1
                break
    return tally


def run_schemathesis(
    run: Run,
    token: str,
    gateway: str,
    schemathesis: str,
    max_examples: int | None,
    report_dir: Path,
    document: Path | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[bool, dict]:
    document = document or REPO / "services" / run.service / "openapi.json"
    junit = report_dir / f"{run.name}.junit.xml"
    cassette = report_dir / f"{run.name}.vcr.yaml"
    command = [
        schemathesis,
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        str(document),
        "--url",
        gateway,
        # JUnit and a VCR cassette only: both are sanitized (the ndjson
        # report would carry the token).
        "--report",
        "junit,vcr",
        "--report-junit-path",
        str(junit),
        "--report-vcr-path",
        str(cassette),
        *extra,
    ]
    if max_examples is not None:
        command += ["--max-examples", str(max_examples)]
    if run.include_path_regex:
        command += ["--include-path-regex", run.include_path_regex]
    if run.exclude_path_regex:
        command += ["--exclude-path-regex", run.exclude_path_regex]
    for operation_id in run.exclude_operation_ids:
        command += ["--exclude-operation-id", operation_id]
    env = dict(os.environ, API_FUZZ_TOKEN=token)
    log(f"{run.name}: schemathesis on {document.relative_to(REPO) if document.is_relative_to(REPO) else document} as {run.role}")
    started = time.monotonic()
    process = subprocess.run(command, env=env, text=True, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    output = process.stdout + process.stderr
    for report in (junit, cassette):
        if report.exists() and token in report.read_text(errors="replace"):
            report.unlink()
            raise RuntimeError(f"{report} contained the bearer token: deleted; check output sanitization")
    cases = test_cases(output)
    return process.returncode == 0, {"seconds": round(elapsed, 1), "cases": cases, "output": output, "cassette": cassette}


def test_cases(output: str) -> int:
    """The generated test cases schemathesis reports ("Test cases: N generated, ...")."""
    match = re.search(r"Test cases:\s*(\d+) generated", output)
    return int(match.group(1)) if match else 0


def fuzz(run: Run, token: str, gateway: str, schemathesis: str, max_examples: int | None, report_dir: Path) -> tuple[bool, int]:
    """One run: schemathesis must pass, and every operation must have been
    served at least once with a 2xx, so the run provably got past the
    authorizer and into the handlers (a broken token would otherwise pass
    as a run of documented 401s)."""
    ok, result = run_schemathesis(run, token, gateway, schemathesis, max_examples, report_dir)
    sys.stdout.write(result["output"])
    document = REPO / "services" / run.service / "openapi.json"
    selected = operations(document, run)
    tally = statuses(result["cassette"], selected) if result["cassette"].exists() else {}
    unserved = []
    for name in selected:
        seen = tally.get(name, Counter())
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(seen.items()))
        log(f"  {name}: {sum(seen.values())} requests ({codes or 'none'})")
        if not any(code.startswith("2") for code in seen):
            unserved.append(name)
    if unserved:
        ok = False
        log(f"{run.name}: never answered 2xx (token or set-up broken?): {', '.join(unserved)}")
    log(
        f"{run.name}: {'passed' if ok else 'FAILED'} in {result['seconds']:.0f} s: "
        f"{len(selected)} operations, {result['cases']} test cases"
    )
    return ok, result["cases"]


def canary(token: str, gateway: str, schemathesis: str, report_dir: Path) -> bool:
    """The checks have teeth: the notes document with its 400 responses
    removed must fail (status_code_conformance on a request schemathesis
    makes invalid)."""
    broken = json.loads((REPO / "services/notes/openapi.json").read_text())
    for item in broken["paths"].values():
        for operation in item.values():
            operation["responses"].pop("400", None)
    path = report_dir / "canary-notes.openapi.json"
    path.write_text(json.dumps(broken))
    run = Run("canary", "notes", "tenant-admin")
    ok, result = run_schemathesis(
        run,
        token,
        gateway,
        schemathesis,
        5,
        report_dir,
        document=path,
        extra=("--include-operation-id", "createNote", "--phases", "coverage"),
    )
    caught = not ok and "Undocumented status code" in result["output"]
    log(
        "canary: a document missing its 400s "
        + ("was caught" if caught else f"was NOT caught:\n{result['output'][-3000:]}")
    )
    return caught


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemathesis", default=str(REPO / ".venv/schemathesis/bin/schemathesis"))
    parser.add_argument("--max-examples", type=int, help="override schemathesis.toml's generation.max-examples")
    parser.add_argument("--report-dir", default=str(REPO / ".local/api-fuzz"))
    parser.add_argument("--no-canary", action="store_true", help="skip the broken-document run that must fail")
    parser.add_argument("runs", nargs="*", help=f"a subset of {[r.name for r in RUNS]} (default: all)")
    args = parser.parse_args()

    gateway = require_env("LOCAL_GATEWAY_URL", "the local gateway (local/stack.sh gateway-start)")
    emulator = require_env("AWS_ENDPOINT_URL", "the emulator of the local stack (make up)")
    region = os.environ.get("AWS_REGION", "us-east-1")
    env = os.environ.get("SAAS_ENV", "local")
    unknown = set(args.runs) - {r.name for r in RUNS}
    if unknown:
        sys.exit(f"[api-fuzz] unknown runs {sorted(unknown)}; known: {[r.name for r in RUNS]}")
    runs = [r for r in RUNS if not args.runs or r.name in args.runs]
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)

    stack = Stack(gateway, emulator, region, env)
    platform_token: str | None = None
    results: dict[str, tuple[bool, int]] = {}
    started = time.monotonic()
    for run in runs:
        if run.role == "platform-admin":
            platform_token = platform_token or stack.platform_admin()
            token = platform_token
        else:
            token = stack.register_tenant(run.name)
        results[run.name] = fuzz(run, token, gateway, args.schemathesis, args.max_examples, report_dir)
    canary_caught = True
    if not args.no_canary:
        canary_caught = canary(stack.register_tenant("canary"), gateway, args.schemathesis, report_dir)

    failed = [name for name, (ok, _) in results.items() if not ok]
    if not canary_caught:
        failed.append("canary")
    total_cases = sum(cases for _, cases in results.values())
    operation_count = sum(
        len(operations(REPO / "services" / r.service / "openapi.json", r)) for r in runs
    )
    log(
        f"{len(results)} runs, {operation_count} operations, {total_cases} test cases "
        f"in {time.monotonic() - started:.0f} s: "
        + (f"FAILED: {', '.join(failed)}" if failed else "no response violated its document")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
