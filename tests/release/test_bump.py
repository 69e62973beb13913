"""bump: new crate version, released CHANGELOG, commit and tag (on a temp copy)."""

import re
import shutil
import subprocess

import pytest

from release import REPO, ReleaseError, bump, main, next_version, release_changelog

CHANGELOG = """# Changelog: notes

Intro.

## [Unreleased]

### Added
- Pagination.

## [0.1.0] - 2025-01-02

### Added
- First release.
"""


@pytest.mark.parametrize(
    "current, part, expected",
    [
        ("0.1.0", "patch", "0.1.1"),
        ("0.1.9", "minor", "0.2.0"),
        ("1.4.2", "major", "2.0.0"),
        ("1.0.0-rc.1", "patch", "1.0.0"),
        ("0.1.0", "0.3.0", "0.3.0"),
        ("0.1.0", "1.0.0-rc.1", "1.0.0-rc.1"),
    ],
)
def test_next_version(current, part, expected):
    assert next_version(current, part) == expected


@pytest.mark.parametrize("target", ["0.1.0", "0.0.9", "banana", "1.0"])
def test_explicit_version_must_be_newer_and_valid(target):
    with pytest.raises(ReleaseError):
        next_version("0.1.0", target)


def test_changelog_unreleased_moves_under_the_version():
    out = release_changelog(CHANGELOG, "0.2.0", "2025-03-04")
    assert out == CHANGELOG.replace(
        "## [Unreleased]\n\n### Added\n- Pagination.\n",
        "## [Unreleased]\n\n## [0.2.0] - 2025-03-04\n\n### Added\n- Pagination.\n",
    )


def test_changelog_with_unreleased_last():
    text = "# Changelog\n\n## Unreleased\n\n- Fix.\n"
    assert release_changelog(text, "1.0.1", "2025-01-01") == "# Changelog\n\n## [Unreleased]\n\n## [1.0.1] - 2025-01-01\n\n- Fix.\n"


@pytest.mark.parametrize("text", ["# Changelog\n", "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2025-01-01\n- x\n"])
def test_changelog_without_entries_is_refused(text):
    with pytest.raises(ReleaseError, match="Unreleased"):
        release_changelog(text, "0.2.0", "2025-01-01")


@pytest.fixture
def repo(tmp_path):
    """A git repository with a copy of the notes crate's manifest, a lock file and a changelog."""
    crate = tmp_path / "services" / "notes"
    crate.mkdir(parents=True)
    shutil.copy(REPO / "services" / "notes" / "Cargo.toml", crate / "Cargo.toml")
    text = (crate / "Cargo.toml").read_text()
    # Start from 0.1.0 whatever the real crate is at now.
    (crate / "Cargo.toml").write_text(re.sub(r'(?m)^version = "[^"]+"', 'version = "0.1.0"', text, count=1))
    (crate / "CHANGELOG.md").write_text(CHANGELOG)
    (tmp_path / "Cargo.lock").write_text(
        '[[package]]\nname = "nom"\nversion = "0.1.0"\n\n[[package]]\nname = "notes"\nversion = "0.1.0"\n'
        'dependencies = [\n "tenancy",\n]\n\n[[package]]\nname = "notes-api"\nversion = "0.1.0"\n'
    )
    (tmp_path / "other.txt").write_text("unrelated, staged\n")

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    git("add", "services", "Cargo.lock")
    git("commit", "-q", "-m", "base")
    git("add", "other.txt")  # staged but not part of the release commit
    return tmp_path, git


def _version(repo):
    return re.search(r'(?m)^version = "([^"]+)"', (repo / "services/notes/Cargo.toml").read_text())[1]


def test_bump_commits_and_tags(repo):
    root, git = repo
    assert _version(root) == "0.1.0"
    assert bump(root, "notes", "minor", date="2025-05-06") == "0.2.0"
    assert _version(root) == "0.2.0"
    lock = (root / "Cargo.lock").read_text()
    assert 'name = "notes"\nversion = "0.2.0"' in lock
    assert 'name = "nom"\nversion = "0.1.0"' in lock and 'name = "notes-api"\nversion = "0.1.0"' in lock
    assert "## [Unreleased]\n\n## [0.2.0] - 2025-05-06\n\n### Added\n- Pagination." in (
        root / "services/notes/CHANGELOG.md"
    ).read_text()
    assert git("log", "-1", "--format=%s").strip() == "notes: release 0.2.0"
    assert sorted(git("show", "--name-only", "--format=", "HEAD").split()) == [
        "Cargo.lock",
        "services/notes/CHANGELOG.md",
        "services/notes/Cargo.toml",
    ]
    assert git("tag", "--list").split() == ["notes-v0.2.0"]
    assert git("cat-file", "-t", "notes-v0.2.0").strip() == "tag"  # annotated
    assert "other.txt" in git("diff", "--cached", "--name-only")  # left staged, not committed
    # the tag now checks out against the crate
    assert main(["--root", str(root), "check-tag", "notes-v0.2.0"]) == 0


def test_the_api_and_client_crates_move_with_their_service(repo):
    root, git = repo
    for suffix in ("api", "client"):
        crate = root / "services" / "notes" / suffix
        crate.mkdir()
        (crate / "Cargo.toml").write_text(f'[package]\nname = "notes-{suffix}"\nversion = "0.1.0"\n')
    lock = root / "Cargo.lock"
    lock.write_text(lock.read_text() + '\n[[package]]\nname = "notes-client"\nversion = "0.1.0"\n')
    git("add", "services", "Cargo.lock")
    git("commit", "-q", "-m", "clients")
    bump(root, "notes", "minor", date="2025-05-06")
    for suffix in ("api", "client"):
        assert 'version = "0.2.0"' in (root / "services" / "notes" / suffix / "Cargo.toml").read_text()
        assert f'name = "notes-{suffix}"\nversion = "0.2.0"' in lock.read_text()
    assert 'name = "nom"\nversion = "0.1.0"' in lock.read_text()
    assert sorted(git("show", "--name-only", "--format=", "HEAD").split()) == [
        "Cargo.lock",
        "services/notes/CHANGELOG.md",
        "services/notes/Cargo.toml",
        "services/notes/api/Cargo.toml",
        "services/notes/client/Cargo.toml",
    ]


def test_second_bump_without_new_entries_is_refused_and_changes_nothing(repo):
    root, git = repo
    bump(root, "notes", "patch", date="2025-05-06")
    before = (root / "services/notes/Cargo.toml").read_text()
    with pytest.raises(ReleaseError, match="empty"):
        bump(root, "notes", "patch")
    assert (root / "services/notes/Cargo.toml").read_text() == before
    assert git("tag", "--list").split() == ["notes-v0.1.1"]


def test_existing_tag_is_refused(repo):
    root, git = repo
    git("tag", "notes-v0.1.1")
    with pytest.raises(ReleaseError, match="already exists"):
        bump(root, "notes", "patch")


def test_no_git_only_edits_files(repo):
    root, git = repo
    assert main(["--root", str(root), "bump", "notes", "1.0.0", "--no-git", "--date", "2025-01-01"]) == 0
    assert _version(root) == "1.0.0"
    assert git("tag", "--list").strip() == ""
    assert git("log", "--format=%s").split("\n")[0] == "base"


def test_unknown_service(repo, capsys):
    root, _ = repo
    assert main(["--root", str(root), "bump", "billing", "patch"]) == 2
    assert "unknown service 'billing'" in capsys.readouterr().err


def test_release_notes_are_the_versions_changelog_section(repo, capsys):
    root, _ = repo
    bump(root, "notes", "patch", date="2025-05-06")
    capsys.readouterr()
    assert main(["--root", str(root), "notes", "notes", "0.1.1"]) == 0
    assert capsys.readouterr().out == "### Added\n- Pagination.\n"
    assert main(["--root", str(root), "notes", "notes", "0.1.0"]) == 0
    assert capsys.readouterr().out == "### Added\n- First release.\n"
    assert main(["--root", str(root), "notes", "notes", "9.9.9"]) == 1
