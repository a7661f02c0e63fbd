"""Ctrl-C and SIGTERM sent to a real `sitesift run` (and `sitesift crawl`) while it works: the
process ends with 130 or 143 and one line, leaves no process behind (parser workers, the fork
server, Prefect's temporary API server), the previous dataset stays current and readable, and the
next run succeeds. Each run below starts its own temporary Prefect server, as a user's does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from prefect.settings import PREFECT_API_URL

from bench.generate import write_site
from pipeline import run_incremental
from tests.flows import cli_process as cp

SITES, PAGES = ("alpha", "beta"), 150
DATASETS = ("documents", "blocks", "boilerplate", "skipped")


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory) -> Path:
    """One PREFECT_HOME for the module's runs: only the first pays for the database migrations."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    for site in SITES:
        write_site(raw, site, 0, PAGES, seed=0)
    return raw


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / name) for name in DATASETS}


def previous_dataset(tmp_path: Path, corpus: Path) -> tuple[Path, Path, str, dict]:
    """A dataset published by a finished run, then every page changed: the next run parses all."""
    raw, out = tmp_path / "raw", tmp_path / "processed"
    shutil.copytree(corpus, raw)
    run_incremental(raw, out, workers=2)
    link, before = os.path.realpath(out / "documents"), tables(out)
    for site in SITES:
        write_site(raw, site, 0, PAGES, seed=1)
    return raw, out, link, before


def interrupt_while_parsing(proc: subprocess.Popen, out: Path, send) -> list:
    """Wait until the run is staging its version with its parser workers up, then `send()`; returns
    every descendant process there was."""
    cp.poll(
        lambda: (
            proc.poll() is not None
            or (any((out / "_runs").glob(".*.tmp")) and len(cp.descendants(proc.pid)) >= 5)
        ),
        bound=600,
        what="the run staging its version with the fork server, 2 workers and the API server up",
    )
    assert proc.poll() is None, proc.communicate()
    kids = cp.descendants(proc.pid)
    send()
    return kids


def assert_stopped_cleanly(proc: subprocess.Popen, kids: list, code: int) -> None:
    stdout, stderr = proc.communicate(timeout=cp.HANG)
    assert proc.returncode == code, stderr[-3000:]
    assert cp.lines(stderr) == ["interrupted: previous dataset kept"], stderr[-3000:]
    assert stdout == ""
    cp.poll(lambda: not cp.alive(kids), bound=30, what=f"children gone: {cp.describe(cp.alive(kids))}")


def assert_previous_kept_and_next_run_succeeds(raw: Path, out: Path, link: str, before: dict) -> None:
    assert os.path.realpath(out / "documents") == link
    for name, df in tables(out).items():
        pd.testing.assert_frame_equal(df, before[name], obj=name)
    summary = run_incremental(raw, out, workers=2)
    assert summary["pages"] == len(SITES) * PAGES and summary["pages_changed"] == len(SITES) * PAGES
    assert os.path.realpath(out / "documents") != link
    assert not list((out / "_runs").glob(".*.tmp"))  # the interrupted run's staging was cleared


def test_ctrl_c_stops_the_run_and_keeps_the_previous_dataset(tmp_path, corpus, prefect_home):
    """As a terminal does it: SIGINT to the whole process group (workers and API server included)."""
    raw, out, link, before = previous_dataset(tmp_path, corpus)
    with cp.started(
        ["run", "--raw", str(raw), "--out", str(out), "--workers", "2"], cp.cli_env(prefect_home)
    ) as proc:
        kids = interrupt_while_parsing(proc, out, lambda: os.killpg(proc.pid, signal.SIGINT))
        assert_stopped_cleanly(proc, kids, 130)
    assert_previous_kept_and_next_run_succeeds(raw, out, link, before)


def test_sigterm_stops_the_run_and_ends_its_children(tmp_path, corpus, prefect_home):
    """As `kill PID` or a service manager does it: SIGTERM to the main process only, so the CLI has
    to end the workers, the fork server and Prefect's temporary API server itself."""
    raw, out, link, before = previous_dataset(tmp_path, corpus)
    with cp.started(
        ["run", "--raw", str(raw), "--out", str(out), "--workers", "2"], cp.cli_env(prefect_home)
    ) as proc:
        kids = interrupt_while_parsing(proc, out, lambda: os.kill(proc.pid, signal.SIGTERM))
        assert any("uvicorn" in " ".join(k.cmdline()) for k in kids)  # the temporary API server was up
        assert_stopped_cleanly(proc, kids, 143)
    assert_previous_kept_and_next_run_succeeds(raw, out, link, before)


@pytest.fixture
def big_site():
    """A loopback site of 400 linked pages: a crawl of it takes long enough to be interrupted."""
    from tests.crawl import site_server as ss

    site = ss.Site()
    ss.serve(site)
    paths = [f"/p{i}" for i in range(400)]
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
    site.routes["/"] = (200, {"Content-Type": "text/html"}, ss.page("Home", "The start page.", paths[:20]))
    for i, path in enumerate(paths):
        links = paths[i + 1 : i + 21]
        site.routes[path] = (200, {"Content-Type": "text/html"}, ss.page(f"Page {i}", f"Body {i}.", links))
    yield site
    ss.stop(site)


def test_ctrl_c_stops_a_crawl(tmp_path, big_site):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    host = big_site.base.split("//")[1]
    args = ["crawl", big_site.base + "/", "--raw", str(raw), "--out", str(out), "--allow-host", host]
    env = cp.cli_env(tmp_path / "home", PREFECT_API_URL.value())
    with cp.started([*args, "--delay", "0.05", "--max-pages", "400"], env) as proc:
        cp.poll(
            lambda: proc.poll() is not None or len(big_site.hits) >= 10,
            bound=600,
            what="the crawl fetching pages",
        )
        assert proc.poll() is None, proc.communicate()
        kids = cp.descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=cp.HANG)
        assert proc.returncode == 130, stderr[-3000:]
        assert [line.split(":")[0] for line in cp.lines(stderr)] == ["interrupted"], stderr[-3000:]
        assert stdout == ""
        cp.poll(lambda: not cp.alive(kids), bound=30, what=f"children gone: {cp.describe(cp.alive(kids))}")
        assert len(big_site.hits) < 400  # it stopped, instead of crawling on
