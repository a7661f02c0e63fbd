"""Crawl -> process end to end through the Prefect flows, and the `sitesift crawl` command."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.crawl import crawl
from flows.process import process
from pipeline.acquire.crawler import host_folder
from pipeline.acquire.errors import CrawlFailed
from tests.crawl import site_server as ss
from tests.crawl.crawling import warc_responses
from tests.support import REPO

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
def site(polite_site):
    """The polite site with four linked story pages."""
    s = polite_site
    for path, (title, body) in STORIES.items():
        s.routes[path] = (200, {"Content-Type": "text/html"}, ss.page(title, body, ["/a", "/b", "/c", "/d"]))
    s.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    return s


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
    assert summary["pages"] == 5 and set(docs.site) == {site.base.split("//")[1]}  # host:port
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
    cjk = ss.cjk_site()
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


# -- interrupted crawls ---------------------------------------------------------------------------------
N_PAGES, HELD = 30, 15


def numbered_site(release: threading.Event, seen: threading.Event) -> ss.Site:
    """A home page linking to /p0../p29 (each with an ETag); /p15 answers only once `release` is set."""
    site = ss.serve(ss.Site())
    links = "".join(f'<a href="/p{i}">page {i}</a> ' for i in range(N_PAGES))
    etag = {"Content-Type": "text/html", "ETag": '"v1"'}
    site.routes["/robots.txt"] = (404, {}, b"")
    site.routes["/"] = (200, etag, f"<html><body><h1>Index</h1>{links}</body></html>".encode())
    for i in range(N_PAGES):
        body = f"<html><body><h1>Page {i}</h1><p>Story number {i} of the numbered site.</p></body></html>"
        site.routes[f"/p{i}"] = (200, etag, body.encode())
    site.routes[f"/p{HELD}"] = ss.held(release, seen, limit=120, body=site.routes[f"/p{HELD}"][2])
    return site


@contextlib.contextmanager
def crawl_process(site: ss.Site, tmp_path, env) -> Iterator[subprocess.Popen]:
    """`sitesift crawl` of site in a subprocess (its stderr in tmp_path/stderr.txt); whatever is
    left of its process group is killed on the way out."""
    host = site.base.split("//")[1]
    args = ["crawl", site.base + "/", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "processed")]
    with open(tmp_path / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args, "--delay", "0", "--allow-host", host],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(60)


def reached(seen: threading.Event, proc: subprocess.Popen, tmp_path) -> None:
    if not seen.wait(300):
        pytest.fail(f"the crawl never asked for /p{HELD}: {(tmp_path / 'stderr.txt').read_text()[-2000:]}")


def crawl_site_again(site: ss.Site, tmp_path, **options):
    """The crawl flow called in this process, on the same site, raw and output folders."""
    return crawl(
        urls=[site.base + "/"],
        raw=str(tmp_path / "raw"),
        out=str(tmp_path / "processed"),
        delay=0.0,
        allow_hosts=[site.base.split("//")[1]],
        **options,
    )


def resume(site: ss.Site, tmp_path) -> tuple[list[dict], set[str], set[str]]:
    """Crawl again; returns the summary rows, the paths asked for conditionally and the others."""
    before = len(site.hits)
    rows = crawl_site_again(site, tmp_path)
    again = [h for h in site.hits[before:] if h.path != "/robots.txt"]
    conditional = {h.path for h in again if h.headers.get("If-None-Match") == '"v1"'}
    return rows, conditional, {h.path for h in again} - conditional


FIRST = {"/"} | {f"/p{i}" for i in range(HELD)}  # fetched before the crawl was stopped at /p15
REST = {f"/p{i}" for i in range(HELD, N_PAGES)}


def test_sigkilled_crawl_leaves_its_log_and_the_rerun_resumes(tmp_path, cli_env):
    release, seen = threading.Event(), threading.Event()
    site = numbered_site(release, seen)
    folder = tmp_path / "raw" / host_folder(site.base.split("//")[1])
    try:
        with crawl_process(site, tmp_path, cli_env) as proc:
            reached(seen, proc, tmp_path)
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and Prefect's server with it
            proc.wait(60)
        release.set()
        assert [p.name.startswith(".") for p in folder.glob("*.warc.gz*")] == [True]  # left mid-file
        rows, conditional, plain = resume(site, tmp_path)
    finally:
        release.set()
        ss.stop(site)
    assert conditional == FIRST and plain == REST  # 304s for what it had, and only the rest fetched
    assert rows[0]["unchanged (304)"] == len(FIRST) and rows[0]["stored"] == len(REST)
    assert not list(folder.glob(".*.part"))  # the partial WARC salvaged
    assert sorted(warc_responses(folder)) == sorted(
        site.base + p for p in FIRST | REST
    )  # each once, all readable


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_crawl_with_valid_warc_and_a_second_crawl_is_refused(tmp_path, cli_env, signum):
    release, seen = threading.Event(), threading.Event()
    site = numbered_site(release, seen)
    folder = tmp_path / "raw" / host_folder(site.base.split("//")[1])
    try:
        with crawl_process(site, tmp_path, cli_env) as proc:
            reached(seen, proc, tmp_path)
            (live,) = folder.glob(".*.warc.gz.part")
            before = live.read_bytes()
            second = crawl_site_again(site, tmp_path, return_state=True)
            assert (
                second.is_failed()
                and f"another sitesift crawl (pid {proc.pid}) is crawling" in second.message
            )
            assert live.read_bytes() == before  # the live file was neither salvaged nor touched
            os.kill(proc.pid, signum)  # /p15 is still held: the stop must end that blocked read
            returncode = proc.wait(120)
            stderr = (tmp_path / "stderr.txt").read_text()
    finally:
        release.set()
    try:
        assert returncode != 0, stderr[-2000:]
        assert not list(folder.glob(".*.part"))  # closed and renamed: a complete WARC file
        assert sorted(warc_responses(folder)) == sorted(site.base + p for p in FIRST)
        log = pd.read_parquet(tmp_path / "processed" / "crawl_log")
        assert set(log[log.outcome == "stored"].url) == {site.base + p for p in FIRST}
        rows, conditional, plain = resume(site, tmp_path)
    finally:
        ss.stop(site)
    assert conditional == FIRST and plain == REST
