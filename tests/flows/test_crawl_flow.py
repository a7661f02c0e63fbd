"""Crawl -> process end to end through the Prefect flows, and the `sitesift crawl` command."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.crawl import crawl
from flows.process import process
from tests.crawl import site_server as ss
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
