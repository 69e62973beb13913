#!/usr/bin/env python3
"""Per-service releases: version bumps, tag checks, and which services a change touches.

Releasable units and what they ship:

    unit      crate (version, CHANGELOG)   function zip    Terraform root
    notes     services/notes               notes           terraform/notes
    users     services/users               users           terraform/users
    tenants   services/tenants             tenants         terraform/tenants
    platform  services/token-claims        token-claims    terraform/platform

Tags are `<unit>-v<semver>` and must equal the unit's crate version.

    release.py bump UNIT major|minor|patch|X.Y.Z [--date YYYY-MM-DD] [--no-git]
        set the crate version (Cargo.toml and Cargo.lock; also the unit's
        services/<unit>/api and services/<unit>/client crates), move the CHANGELOG's
        Unreleased section under the new version, commit those files and create
        the annotated tag <unit>-v<version>
    release.py check-tag TAG
        exit 0 if TAG (or refs/tags/TAG) names a unit and equals its crate
        version; 1 on a mismatch; 2 on a malformed tag or an unknown unit
    release.py changed BASE HEAD [--github-output]
        the units whose jobs a change BASE..HEAD triggers, as JSON
        {"service": [...]} (a job matrix); crate dependencies come from
        `cargo metadata`. --github-output also writes matrix=... and any=...
        to $GITHUB_OUTPUT
    release.py info UNIT
        the unit's crate, function, version and paths, as JSON
    release.py notes UNIT VERSION
        the CHANGELOG section of VERSION (the GitHub release's notes)

Standard library only; needs git, and cargo for `changed`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Unit:
    name: str
    crate: str  # package name
    crate_dir: str  # relative to the repository root
    function: str  # binary / Lambda zip

    @property
    def terraform_root(self) -> str:
        return f"terraform/{self.name}"


UNITS = {
    u.name: u
    for u in (
        Unit("notes", "notes", "services/notes", "notes"),
        Unit("users", "users", "services/users", "users"),
        Unit("tenants", "tenants", "services/tenants", "tenants"),
        Unit("platform", "token-claims", "services/token-claims", "token-claims"),
    )
}

# Paths (file or folder prefix) whose change concerns every unit: the workspace
# manifest and lock (shared dependency versions, the release profile), the
# toolchain, the build tools, the modules every function and service is
# deployed with, and the backend configuration and shared files of every root.
ALL_UNITS_PATHS = (
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    "rust-toolchain",
    ".cargo/",
    "local/build-requirements.txt",
    "terraform/modules/lambda-service/",
    "terraform/modules/platform-parameters/",
    "terraform/modules/service/",
    "terraform/modules/tenant-data-access/",
    "terraform/modules/tenant-table/",
    "terraform/backend/",
    "terraform/shared/",
)

SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?"
TAG_RE = re.compile(rf"^(?P<unit>[a-z][a-z0-9-]*)-v(?P<version>{SEMVER})$")
ZERO_SHA = re.compile(r"^0+$")


class ReleaseError(Exception):
    """A user-facing error: printed without a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def unit(name: str) -> Unit:
    try:
        return UNITS[name]
    except KeyError:
        raise ReleaseError(f"unknown service '{name}' (releasable: {', '.join(UNITS)})", 2) from None


# --- Versions ---------------------------------------------------------------------


def parse_semver(text: str) -> tuple[int, int, int, str | None]:
    m = re.fullmatch(SEMVER, text)
    if not m:
        raise ReleaseError(f"'{text}' is not a semantic version (X.Y.Z)", 2)
    return int(m[1]), int(m[2]), int(m[3]), m[4]


def _precedence(text: str) -> tuple:
    major, minor, patch, pre = parse_semver(text)
    # A pre-release sorts before its release; good enough for "is it newer".
    return (major, minor, patch, pre is None, pre or "")


def next_version(current: str, part_or_version: str) -> str:
    major, minor, patch, pre = parse_semver(current)
    if part_or_version == "major":
        return f"{major + 1}.0.0"
    if part_or_version == "minor":
        return f"{major}.{minor + 1}.0"
    if part_or_version == "patch":
        # 1.2.3-rc.1 -> 1.2.3 (the release of that pre-release)
        return f"{major}.{minor}.{patch}" if pre else f"{major}.{minor}.{patch + 1}"
    parse_semver(part_or_version)
    if _precedence(part_or_version) <= _precedence(current):
        raise ReleaseError(f"{part_or_version} is not newer than the current version {current}")
    return part_or_version


_PACKAGE_VERSION = re.compile(r'(?ms)^(\[package\][^\[]*?^version\s*=\s*")([^"]+)(")')


def crate_version(root: Path, u: Unit) -> str:
    manifest = root / u.crate_dir / "Cargo.toml"
    m = _PACKAGE_VERSION.search(manifest.read_text())
    if not m:
        raise ReleaseError(f"{manifest}: no literal version in [package] (a crate released on its own needs one)")
    return m[2]


# Crates released with their service at its version, when the service has
# them: its wire types and its typed client (services/<unit>/api, .../client).
COMPANION_CRATES = ("api", "client")


def released_crates(root: Path, u: Unit) -> list[tuple[str, str]]:
    """(package, directory) of the unit's crate and of its companions that exist."""
    crates = [(u.crate, u.crate_dir)]
    for suffix in COMPANION_CRATES:
        directory = f"{u.crate_dir}/{suffix}"
        if (root / directory / "Cargo.toml").exists():
            crates.append((f"{u.crate}-{suffix}", directory))
    return crates


def set_crate_version(root: Path, u: Unit, version: str) -> list[Path]:
    """Write the version into the manifests of the unit's crates and the lock
    file; returns the files changed."""
    changed = []
    lock = root / "Cargo.lock"
    lock_text = lock.read_text() if lock.exists() else None
    for crate, directory in released_crates(root, u):
        manifest = root / directory / "Cargo.toml"
        manifest.write_text(_PACKAGE_VERSION.sub(lambda m: m[1] + version + m[3], manifest.read_text(), count=1))
        changed.append(manifest)
        if lock_text is not None:
            pattern = re.compile(rf'(?m)^(name = "{re.escape(crate)}"\nversion = ")([^"]+)(")')
            lock_text, n = pattern.subn(lambda m: m[1] + version + m[3], lock_text)
            if n != 1:
                raise ReleaseError(f"{lock}: expected one entry for {crate}, found {n}")
    if lock_text is not None:
        lock.write_text(lock_text)
        changed.append(lock)
    return changed


# --- Changelog ----------------------------------------------------------------------

_UNRELEASED = re.compile(r"(?mi)^## \[?unreleased\]?[ \t]*\n")
_NEXT_SECTION = re.compile(r"(?m)^## ")


def release_changelog(text: str, version: str, date: str) -> str:
    """Move the Unreleased section's entries under `## [version] - date`; keep an empty Unreleased."""
    m = _UNRELEASED.search(text)
    if not m:
        raise ReleaseError("the CHANGELOG has no '## [Unreleased]' section")
    nxt = _NEXT_SECTION.search(text, m.end())
    body_end = nxt.start() if nxt else len(text)
    body = text[m.end() : body_end].strip("\n")
    # Link reference definitions at the end of the file are not entries.
    entries = [ln for ln in body.splitlines() if ln.strip() and not re.match(r"^\[[^\]]+\]:\s", ln)]
    if not entries:
        raise ReleaseError("the CHANGELOG's Unreleased section is empty: nothing to release")
    if re.search(rf"(?m)^## \[?{re.escape(version)}\]?", text):
        raise ReleaseError(f"the CHANGELOG already has a section for {version}")
    released = f"## [Unreleased]\n\n## [{version}] - {date}\n\n{body}\n"
    return text[: m.start()] + released + ("\n" + text[body_end:] if body_end < len(text) else "")


def changelog_section(text: str, version: str) -> str:
    m = re.search(rf"(?m)^## \[?{re.escape(version)}\]?[^\n]*\n", text)
    if not m:
        raise ReleaseError(f"the CHANGELOG has no section for {version}")
    nxt = _NEXT_SECTION.search(text, m.end())
    return text[m.end() : nxt.start() if nxt else len(text)].strip("\n") + "\n"


# --- Git ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def tag_name(u: Unit, version: str) -> str:
    return f"{u.name}-v{version}"


# --- Commands -----------------------------------------------------------------------------


def bump(root: Path, name: str, part_or_version: str, date: str | None = None, use_git: bool = True) -> str:
    u = unit(name)
    current = crate_version(root, u)
    version = next_version(current, part_or_version)
    tag = tag_name(u, version)
    if use_git and git(root, "tag", "--list", tag).strip():
        raise ReleaseError(f"tag {tag} already exists")
    changelog = root / u.crate_dir / "CHANGELOG.md"
    if not changelog.exists():
        raise ReleaseError(f"{changelog.relative_to(root)} is missing")
    date = date or dt.date.today().isoformat()
    # Compute everything before writing anything.
    new_changelog = release_changelog(changelog.read_text(), version, date)
    files = set_crate_version(root, u, version)
    changelog.write_text(new_changelog)
    files.append(changelog)
    if use_git:
        paths = [str(f.relative_to(root)) for f in files]
        git(root, "add", "--", *paths)
        git(root, "commit", "--quiet", "-m", f"{u.name}: release {version}", "--", *paths)
        git(root, "tag", "-a", tag, "-m", f"{u.name} {version}")
    print(f"{u.name}: {current} -> {version}" + (f", committed and tagged {tag}" if use_git else ""))
    if use_git:
        print(f"push with: git push origin HEAD {tag}")
    return version


def check_tag(root: Path, tag: str) -> str:
    tag = tag.removeprefix("refs/tags/")
    m = TAG_RE.match(tag)
    if not m:
        raise ReleaseError(f"malformed tag '{tag}': expected <service>-v<semver>, e.g. notes-v1.2.3", 2)
    u = unit(m["unit"])
    version = crate_version(root, u)
    if m["version"] != version:
        raise ReleaseError(
            f"tag {tag} does not match {u.crate_dir}/Cargo.toml version {version} (expected tag {tag_name(u, version)})"
        )
    print(f"{tag}: matches {u.crate} {version}")
    return version


def cargo_metadata(root: Path) -> dict:
    result = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ReleaseError(f"cargo metadata failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def crate_graph(metadata: dict) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(crate dir relative to the workspace -> crate, crate -> workspace crates it depends on)."""
    root = PurePosixPath(metadata["workspace_root"])
    dirs, deps = {}, {}
    names = {p["name"] for p in metadata["packages"]}
    for p in metadata["packages"]:
        manifest_dir = PurePosixPath(p["manifest_path"]).parent
        if not manifest_dir.is_relative_to(root):
            continue  # not a workspace crate
        dirs[str(manifest_dir.relative_to(root))] = p["name"]
        deps[p["name"]] = {d["name"] for d in p["dependencies"] if d.get("path") and d["name"] in names}
    return dirs, deps


def crate_of(path: str, dirs: dict[str, str]) -> str | None:
    """The innermost workspace crate whose folder holds `path`."""
    best = None
    for crate_dir, crate in dirs.items():
        if path.startswith(crate_dir + "/") and (best is None or len(crate_dir) > len(best[0])):
            best = (crate_dir, crate)
    return best[1] if best else None


def depends_on(crate: str, changed: str, deps: dict[str, set[str]]) -> bool:
    seen, todo = set(), [crate]
    while todo:
        c = todo.pop()
        if c == changed:
            return True
        if c not in seen:
            seen.add(c)
            todo.extend(deps.get(c, ()))
    return False


def units_for_paths(paths: list[str], metadata: dict) -> list[str]:
    dirs, deps = crate_graph(metadata)
    hit: set[str] = set()
    for path in paths:
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in ALL_UNITS_PATHS):
            return list(UNITS)
        parts = path.split("/")
        if parts[0] == "terraform" and len(parts) > 2:
            owner = parts[2] if parts[1] == "modules" else parts[1]
            if owner in UNITS:
                hit.add(owner)
            continue
        crate = crate_of(path, dirs)
        if crate is not None:
            hit.update(u.name for u in UNITS.values() if depends_on(u.crate, crate, deps))
        elif parts[0] == "libs":
            return list(UNITS)  # shared code outside a crate (e.g. a new one not yet in the workspace)
    return [name for name in UNITS if name in hit]


def changed(root: Path, base: str, head: str, metadata: dict | None = None) -> list[str]:
    if ZERO_SHA.match(base):  # a new branch: nothing to compare with
        return list(UNITS)
    paths = git(root, "diff", "--name-only", "--no-renames", base, head).split()
    # A rename is a deletion plus an addition: both sides count (--no-renames).
    return units_for_paths(paths, metadata if metadata is not None else cargo_metadata(root))


def info(root: Path, name: str) -> dict:
    u = unit(name)
    return {
        "service": u.name,
        "crate": u.crate,
        "crate_dir": u.crate_dir,
        "function": u.function,
        "version": crate_version(root, u),
        "terraform_root": u.terraform_root,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("bump", help="bump a unit's version, release its CHANGELOG, commit and tag")
    p.add_argument("service")
    p.add_argument("part", metavar="major|minor|patch|X.Y.Z")
    p.add_argument("--date", help="release date (default: today)")
    p.add_argument("--no-git", action="store_true", help="edit the files only: no commit, no tag")
    p = sub.add_parser("check-tag", help="does TAG equal its unit's crate version")
    p.add_argument("tag")
    p = sub.add_parser("changed", help="units whose jobs BASE..HEAD triggers, as a JSON job matrix")
    p.add_argument("base")
    p.add_argument("head")
    p.add_argument("--github-output", action="store_true", help="also write matrix= and any= to $GITHUB_OUTPUT")
    p = sub.add_parser("info", help="a unit's crate, function, version and paths as JSON")
    p.add_argument("service")
    p = sub.add_parser("notes", help="the CHANGELOG section of VERSION")
    p.add_argument("service")
    p.add_argument("version")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "bump":
            bump(root, args.service, args.part, args.date, use_git=not args.no_git)
        elif args.command == "check-tag":
            check_tag(root, args.tag)
        elif args.command == "changed":
            matrix = json.dumps({"service": changed(root, args.base, args.head)}, separators=(",", ":"))
            print(matrix)
            if args.github_output:
                with open(os.environ["GITHUB_OUTPUT"], "a") as out:
                    out.write(f"matrix={matrix}\nany={str(json.loads(matrix)['service'] != []).lower()}\n")
        elif args.command == "info":
            print(json.dumps(info(root, args.service)))
        elif args.command == "notes":
            changelog = root / unit(args.service).crate_dir / "CHANGELOG.md"
            print(changelog_section(changelog.read_text(), args.version), end="")
    except ReleaseError as e:
        print(f"release.py: {e}", file=sys.stderr)
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
