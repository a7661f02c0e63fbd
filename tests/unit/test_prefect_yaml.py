"""Every prefect.yaml entrypoint loads as a flow through Prefect's own loader, and its parameters
validate against the flow's signature; the shipped deployments crawl nobody's site until the user
chooses one, and set only what differs from the flow's defaults."""

import inspect
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.templating import apply_values

from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.urls import normalise

REPO = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((REPO / "prefect.yaml").read_text())
RESERVED = ("example.org", "example.com", "example.net")  # RFC 2606: documentation only, nobody's site


def deployment(name: str) -> dict:
    return next(d for d in SPEC["deployments"] if d["name"] == name)


def test_deployments_load_and_parameters_validate(monkeypatch):
    monkeypatch.chdir(REPO)
    assert SPEC["deployments"]
    for dep in SPEC["deployments"]:
        path = dep["entrypoint"].split(":")[0]
        assert not Path(path).is_absolute() and (REPO / path).exists()
        flow = load_flow_from_entrypoint(dep["entrypoint"])
        validated = flow.validate_parameters(dep.get("parameters", {}))
        assert set(dep.get("parameters", {})) <= set(validated)
        assert dep["work_pool"]["name"]


def test_parameters_only_say_what_differs_from_the_flow_defaults(monkeypatch):
    monkeypatch.chdir(REPO)
    for dep in SPEC["deployments"]:
        defaults = inspect.signature(load_flow_from_entrypoint(dep["entrypoint"]).fn).parameters
        for name, value in (dep.get("parameters") or {}).items():
            assert value != defaults[name].default, f"{dep['name']}: {name}={value!r} is the flow's default"


def test_the_shipped_schedule_is_off():
    schedules = [s for dep in SPEC["deployments"] for s in dep.get("schedules") or []]
    assert schedules and all(s["active"] is False for s in schedules)


def test_no_seed_is_a_third_party_site():
    for dep in SPEC["deployments"]:
        params = dep.get("parameters") or {}
        for url in [*params.get("urls", []), *params.get("sitemaps", []), *params.get("feeds", [])]:
            if url.strip().startswith("{{ $"):
                continue  # from the deploying user's environment
            host = urlsplit(url).hostname or ""
            assert host.endswith(RESERVED) or host == "localhost", url


@pytest.mark.parametrize("env", [{"SITESIFT_SEED_URL": "https://my-own-site.example/"}, {}])
def test_the_seed_comes_from_the_deploying_users_environment(monkeypatch, env):
    """`prefect deploy` fills `{{ $VAR }}` from its environment (remove_notset=False, as the deploy
    command calls it); left unset, the placeholder stays and the crawl refuses it before any request."""
    monkeypatch.delenv("SITESIFT_SEED_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (url,) = apply_values(deployment("nightly-crawl"), {}, remove_notset=False)["parameters"]["urls"]
    if env:
        assert url == env["SITESIFT_SEED_URL"]
    else:
        with pytest.raises(RefusedURL, match="only http and https"):
            normalise(url)
