"""check-tag: a release tag must name a unit and equal its crate's version."""

import pytest

from release import REPO, ReleaseError, check_tag, crate_version, main, UNITS


@pytest.fixture
def repo(tmp_path):
    for name, version in {"notes": "1.2.3", "users": "0.4.0", "tenants": "0.1.0", "token-claims": "2.0.0-rc.1"}.items():
        crate = tmp_path / "services" / name
        crate.mkdir(parents=True)
        (crate / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "{version}"\nedition.workspace = true\n\n[dependencies]\nserde = {{ version = "1" }}\n'
        )
    return tmp_path


@pytest.mark.parametrize(
    "tag, version",
    [("notes-v1.2.3", "1.2.3"), ("refs/tags/users-v0.4.0", "0.4.0"), ("platform-v2.0.0-rc.1", "2.0.0-rc.1")],
)
def test_matching_tag_passes(repo, tag, version):
    assert check_tag(repo, tag) == version
    assert main(["--root", str(repo), "check-tag", tag]) == 0


def test_mismatch_fails_and_names_the_expected_tag(repo, capsys):
    with pytest.raises(ReleaseError, match=r"does not match services/notes/Cargo.toml version 1.2.3.*notes-v1.2.3") as e:
        check_tag(repo, "notes-v1.2.4")
    assert e.value.code == 1
    assert main(["--root", str(repo), "check-tag", "tenants-v0.2.0"]) == 1
    assert "expected tag tenants-v0.1.0" in capsys.readouterr().err


@pytest.mark.parametrize("tag", ["notes-1.2.3", "notes-v1.2", "notes-v01.2.3", "v1.2.3", "notes-v1.2.3 ", "Notes-v1.2.3", ""])
def test_malformed_tag_is_rejected(repo, tag, capsys):
    assert main(["--root", str(repo), "check-tag", tag]) == 2
    assert "malformed tag" in capsys.readouterr().err


@pytest.mark.parametrize("tag", ["billing-v1.0.0", "token-claims-v2.0.0-rc.1", "users-api-v0.1.0"])
def test_unknown_service_is_rejected(repo, tag, capsys):
    # token-claims ships as the platform unit; users-api is a library crate.
    assert main(["--root", str(repo), "check-tag", tag]) == 2
    assert "unknown service" in capsys.readouterr().err


def test_every_unit_of_this_repository_has_a_literal_crate_version():
    for unit in UNITS.values():
        assert crate_version(REPO, unit)
