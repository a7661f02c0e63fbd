"""When `sitesift run` starts Prefect's temporary API server itself: only when the user configured no
API URL anywhere Prefect would look (environment, active profile, settings files in the working folder)."""

from __future__ import annotations

import pytest

from flows.api_server import configured_api_url


@pytest.fixture
def clean(tmp_path, monkeypatch):
    """A working folder without settings files and a PREFECT_HOME of its own."""
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home, work


def test_nothing_configured_means_a_temporary_server(clean):
    assert configured_api_url() is False


def test_an_api_url_in_the_environment_is_used(clean, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert configured_api_url() is True


def test_the_active_profile_decides(clean, monkeypatch):
    home, _ = clean
    (home / "profiles.toml").write_text(
        'active = "ephemeral"\n[profiles.ephemeral]\nPREFECT_SERVER_EPHEMERAL_ENABLED = "true"\n'
        '[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
    )
    assert configured_api_url() is False
    monkeypatch.setenv("PREFECT_PROFILE", "local")
    assert configured_api_url() is True


def test_a_settings_file_that_may_set_the_api_leaves_it_to_prefect(clean):
    _, work = clean
    (work / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:4200/api"\n')
    assert configured_api_url() is True


def test_an_unreadable_profiles_file_leaves_it_to_prefect(clean):
    home, _ = clean
    (home / "profiles.toml").write_text("active = [unclosed\n")
    assert configured_api_url() is True
