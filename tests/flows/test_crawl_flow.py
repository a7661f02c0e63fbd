"""Crawl -> process end to end through the Prefect flows, and the `sitesift crawl` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from urllib.parse import quote

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.crawl import crawl
from flows.process import process
from pipeline.acquire.errors import CrawlFailed
from tests.conftest import REPO
from tests.crawl import site_server as ss
from tests.crawl.test_crawler import cjk_site, polite_site

STORIES = {
    "/a": (
        "Apples in the orchard",
        "Apples grow on trees in the orchard by the river, picked in late September.",
    ),
    "/b": ("Bees and honey", "Bees make honey from the flowers in the meadow and winter in the hive."),
    "/c": ("Carrots underground", "Carrots are orange and grow under the ground, sown thinly in spring."),
    "/d": (
        "Dahlias in autumn",
        "Dahlias flower until the first frost and their tubers are lifted for winter.",
    ),
}


@pytest.fixture
def site():
    s = polite_site()
    for path, (title, body) in STORIES.items():
        s.routes[path] = (200, {"Content-Type": "text/html"}, ss.page(title, body, ["/a", "/b", "/c", "/d"]))
    s.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    yield s
    ss.stop(s)


def test_crawl_then_process_gives_clean_rows(tmp_path, site):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    rows = crawl(
        urls=[site.base + "/"], raw=str(raw), out=str(out), delay=0.0, allow_hosts=[site.base.split("//")[1]]
    )
    assert rows[0]["stored"] == 5 and rows[0]["disallowed"] == 1
    assert Artifact.get("sitesift-crawl-summary") is not None
    log = pd.read_parquet(out / "crawl_log")
    assert set(log.outcome) >= {"stored", "disallowed", "discovery"}
    assert list(raw.glob("*/*.warc.gz"))

    summary = process(raw=str(raw), out=str(out))
    docs = pd.read_parquet(out / "documents")
    assert summary["pages"] == 5 and set(docs.site) == {"127.0.0.1"}
    stories = docs[docs.url.str.endswith(("/a", "/b", "/c", "/d"))].sort_values("url")
    assert stories.title.tolist() == [t for t, _ in STORIES.values()]
    for (_, body), text in zip(STORIES.values(), stories.text):
        assert body in text
        assert "All rights reserved" not in text and "Local Site" not in text


def test_cli_refuses_non_http_urls(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "crawl", "file:///etc/passwd", "--raw", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "only http and https" in proc.stderr
    assert not any(tmp_path.iterdir())


# -- failures that look like failures ---------------------------------------------------------------
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_crawl_where_no_seed_could_be_fetched_fails_and_does_not_process(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    port = (
        closed_port()
    )  # connection refused: nothing leaves the machine (a DNS failure would ask a resolver)
    state = crawl(
        urls=[f"http://127.0.0.1:{port}/"],
        raw=str(raw),
        out=str(out),
        delay=0.0,
        allow_hosts=[f"127.0.0.1:{port}"],
        process_after=True,
        return_state=True,
    )
    assert state.is_failed()
    assert state.message.startswith(f"no seed could be fetched: http://127.0.0.1:{port}/ ")
    assert "robots.txt could not be read" in state.message and "\n" not in state.message
    with pytest.raises(CrawlFailed):
        state.result()
    assert not (out / "documents").exists()  # process_after did not run


def test_partial_failure_is_a_warning_with_counts(tmp_path, site, caplog):
    port = closed_port()
    rows = crawl(
        urls=[site.base + "/", f"http://127.0.0.1:{port}/"],
        raw=str(tmp_path / "raw"),
        out=str(tmp_path / "processed"),
        delay=0.0,
        allow_hosts=[site.base.split("//")[1]],  # the closed port is not allowed: refused at once
    )
    by_host = {r["host"]: r for r in rows}
    assert by_host[site.base.split("//")[1]]["stored"] == 5
    assert by_host[f"127.0.0.1:{port}"]["seeds failed"] == "1 of 1"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(w.startswith("1 of 2 seeds could not be fetched: ") and "--allow-host" in w for w in warnings)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """Environment for `sitesift` subprocesses: one Prefect home for the module (its database is made
    once), and not the harness's API (that is this process's; the CLI starts its own)."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    return env


def sitesift(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kw,
    )


def test_cli_crawl_of_an_unfetchable_seed_exits_non_zero_with_the_reason(tmp_path, site, cli_env):
    proc = sitesift(
        ["crawl", site.base + "/", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "o")], cli_env
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    host = site.base.split("//")[1]
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: no seed could be fetched: {site.base}/ refused: ")
    assert f"pass --allow-host {host}" in line
    assert site.hits == []  # refused before any connection


def test_cli_crawl_reads_seeds_from_an_input_file(tmp_path, cli_env):
    cjk = cjk_site()
    other = closed_port()
    seeds = tmp_path / "urls.txt"
    seeds.write_text(
        f"# seeds, one a line\n\n{cjk.base}/2018/01/08/spark2-2新版本编译打包/\n   # indented comment\n"
        f"http://127.0.0.1:{other}/\n",
        encoding="utf-8",
    )
    raw, out = tmp_path / "raw", tmp_path / "processed"
    try:
        proc = sitesift(
            ["crawl", "--input-file", str(seeds), "--raw", str(raw), "--out", str(out), "--delay", "0"]
            + ["--allow-host", cjk.base.split("//")[1]],
            cli_env,
        )
    finally:
        ss.stop(cjk)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 of 2 seeds could not be fetched" in proc.stderr + proc.stdout
    assert (
        quote("/2018/01/08/spark2-2新版本编译打包/") == cjk.hits[1].path
    )  # the seed, right after robots.txt
    log = pd.read_parquet(out / "crawl_log")
    assert log[log.outcome == "stored"].url.str.contains("%E6%96%B0").any()

    from pipeline import run_incremental

    assert run_incremental(raw, out)["pages"] == 4
