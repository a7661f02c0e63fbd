"""The crawler against real HTTP servers on 127.0.0.1 that the tests start."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.config import CrawlConfig
from tests.crawl import site_server as ss
from tests.crawl.crawling import run_crawl, warc_responses
from tests.support import LASTMOD


def test_polite_crawl_robots_sitemap_feed_and_delay(tmp_path, polite_site):
    cfg = CrawlConfig(min_delay=0.05, allow_hosts=("127.0.0.1",))
    stats, log = run_crawl(tmp_path, polite_site, cfg, feeds=("/feed.xml",))
    pages = sorted(p for p in polite_site.paths() if p in ("/", "/a", "/b", "/c"))
    assert pages == ["/", "/a", "/b", "/c"]  # everything allowed, each exactly once
    assert not any(p.startswith("/private") for p in polite_site.paths())
    assert stats.stored == 4 and stats.disallowed == 2
    times = [h.at for h in polite_site.hits]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.28, gaps  # robots.txt Crawl-delay: 0.3 beats our 0.05
    assert all(h.headers.get("User-Agent", "").startswith("sitesift/") for h in polite_site.hits)
    assert sorted(warc_responses(tmp_path / "raw")) == sorted(
        f"{polite_site.base}{p}" for p in ("/", "/a", "/b", "/c")
    )
    assert set(log[log.outcome == "disallowed"].reason) == {"robots_txt"}
    assert not list(tmp_path.rglob(".*.part"))  # WARC files closed and renamed


def test_second_crawl_gets_304_and_writes_nothing_new(tmp_path, polite_site):
    cfg = CrawlConfig(min_delay=0.0, allow_hosts=("127.0.0.1",))
    first, _ = run_crawl(tmp_path, polite_site, cfg, feeds=("/feed.xml",), crawl_id="c1")
    before = warc_responses(tmp_path / "raw")
    second, log = run_crawl(tmp_path, polite_site, cfg, feeds=("/feed.xml",), crawl_id="c2")
    assert first.stored == 4 and second.stored == 0 and second.unchanged == 4
    assert warc_responses(tmp_path / "raw") == before
    again = log[log.crawl_id == "c2"]
    assert set(again[again.outcome == "unchanged"].status) == {304}
    sent = [h.headers for h in polite_site.hits if h.path in ("/a", "/b")][-2:]
    assert any(h.get("If-None-Match") == '"v1"' for h in sent)
    assert any(h.get("If-Modified-Since") == LASTMOD["Last-Modified"] for h in sent)


@pytest.fixture
def faulty():
    other = ss.Site()
    ss.serve(other)
    other.routes["/x"] = (200, {"Content-Type": "text/html"}, ss.page("Other", "must never be reached"))
    site = ss.Site()
    ss.serve(site)
    faults = [
        "/flaky",
        "/limited",
        "/slow",
        "/reset",
        "/loop1",
        "/big",
        "/bignolength",
        "/bomb",
        "/doc.pdf",
        "/missing",
        "/offsite",
    ]
    site.routes.update(
        {
            "/robots.txt": (404, {"Content-Type": "text/plain"}, b""),
            "/": (
                200,
                {"Content-Type": "text/html"},
                ss.page("Faults", "A page linking to every fault.", faults),
            ),
            "/flaky": ss.flaky,
            "/limited": ss.rate_limited,
            "/slow": ss.slow,
            "/reset": ss.reset,
            "/loop1": (302, {"Location": "/loop2"}, b""),
            "/loop2": (302, {"Location": "/loop1"}, b""),
            "/big": ss.big,
            "/bignolength": ss.big_no_length,
            "/bomb": ss.bomb,
            "/doc.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."),
            "/offsite": (302, {"Location": f"{other.base}/x"}, b""),
        }
    )
    yield site, other
    ss.stop(site)
    ss.stop(other)


def test_faults_end_as_the_rules_say_and_the_crawl_finishes(tmp_path, faulty):
    site, other = faulty
    cfg = CrawlConfig(
        min_delay=0.0,
        read_timeout=0.5,
        connect_timeout=1.0,
        backoff_base=0.05,
        max_retries=2,
        allow_hosts=(site.base.split("//")[1],),
    )
    stats, log = run_crawl(tmp_path, site, cfg)
    by_path = {u.replace(site.base, ""): r for u, r in log.set_index("url").iterrows()}
    assert by_path["/flaky"].outcome == "stored" and by_path["/flaky"].retries == 2
    assert by_path["/limited"].outcome == "stored" and by_path["/limited"].retries == 1
    limited = [h.at for h in site.hits if h.path == "/limited"]
    assert limited[1] - limited[0] >= 1.9  # Retry-After: 2 honoured
    assert (by_path["/slow"].outcome, by_path["/slow"].reason, by_path["/slow"].retries) == (
        "failed",
        "timeout",
        2,
    )
    assert (by_path["/reset"].outcome, by_path["/reset"].reason) == ("failed", "connection")
    assert (by_path["/loop1"].outcome, by_path["/loop1"].reason) == ("failed", "redirect_loop")
    for p in ("/big", "/bignolength", "/bomb"):
        assert (by_path[p].outcome, by_path[p].reason) == ("skipped", "too_large"), p
    assert (by_path["/doc.pdf"].outcome, by_path["/doc.pdf"].reason) == ("skipped", "unsupported_type")
    assert (by_path["/missing"].outcome, by_path["/missing"].status) == ("failed", 404)
    assert (by_path["/offsite"].outcome, by_path["/offsite"].reason) == ("refused", "forbidden_address")
    assert other.hits == []  # refused before any connection was made
    assert stats.stored == 3  # home, flaky, limited
    assert sorted(warc_responses(tmp_path / "raw")) == sorted(
        f"{site.base}{p}" for p in ("/", "/flaky", "/limited")
    )
    assert (
        log[log.outcome != "stored"].error.notna().all() and log[log.outcome == "stored"].error.isna().all()
    )


def test_loopback_is_refused_without_allow_list(tmp_path, polite_site):
    stats, log = run_crawl(tmp_path, polite_site, CrawlConfig(min_delay=0.0))
    assert stats.stored == 0 and polite_site.hits == []
    assert "forbidden_address" in set(log.reason)


def test_connections_go_only_to_checked_addresses(polite_site):
    """The guard sits in the client's own connection path, not only before requests."""
    import httpcore

    from pipeline.acquire.errors import RefusedURL
    from pipeline.acquire.fetch import GuardedBackend, make_client

    client = make_client(CrawlConfig(allow_hosts=()))
    assert isinstance(client._transport._pool._network_backend, GuardedBackend)
    with pytest.raises(RefusedURL):
        client.get(polite_site.base + "/")  # straight through httpx: refused at connect, nothing sent
    assert polite_site.hits == []
    stream = GuardedBackend((f"127.0.0.1:{polite_site.port}",)).connect_tcp(
        "127.0.0.1", polite_site.port, timeout=5
    )
    assert isinstance(stream, httpcore.NetworkStream)
    stream.close()
    client.close()


# -- non-ASCII URLs, end to end -------------------------------------------------------------------------
def test_non_ascii_paths_are_crawled_as_uris_and_processed(tmp_path):
    site = ss.cjk_site()
    try:
        stats, log = run_crawl(
            tmp_path, site, CrawlConfig(min_delay=0.0, allow_hosts=(site.base.split("//")[1],))
        )
    finally:
        ss.stop(site)
    assert stats.stored == 4  # (and 404s for the template's /a and /b)
    sent = set(site.paths())  # what went over the wire: percent-encoded UTF-8, no fragment
    assert quote(ss.HEXO_POST) in sent and "/search?q=B%C3%BCcher&page=2" in sent
    expected = {site.base + "/", site.base + quote(ss.HEXO_POST), site.base + quote("/tags/大数据/")}
    expected.add(site.base + "/search?q=B%C3%BCcher&page=2")
    assert set(log[log.outcome == "stored"].url) == expected  # one canonical form in the log ...
    requests, responses = {}, {}
    for f in sorted((tmp_path / "raw").rglob("*.warc.gz")):
        with open(f, "rb") as fh:
            for r in ArchiveIterator(fh):
                uri = r.rec_headers.get_header("WARC-Target-URI")
                target = requests if r.rec_type == "request" else responses
                target[uri] = (r.http_headers.protocol, r.http_headers.statusline, r.content_stream().read())
    assert set(responses) == expected == set(requests)  # ... and in the WARC files
    assert requests[site.base + quote(ss.HEXO_POST)][:2] == ("GET", f"{quote(ss.HEXO_POST)} HTTP/1.1")
    assert responses[site.base + quote(ss.HEXO_POST)][:2] == ("HTTP/1.1", "200 OK")

    from pipeline import run_incremental

    summary = run_incremental(tmp_path / "raw", tmp_path / "processed")
    assert summary["pages"] == 4
    docs = pd.read_parquet(tmp_path / "processed" / "documents")
    titles = dict(zip(docs.url, docs.title))
    assert titles[site.base + quote(ss.HEXO_POST)] == "Spark 2.2 新版本编译打包"
    post = docs[docs.url == site.base + quote(ss.HEXO_POST)].text.iloc[0]
    assert ss.CJK_PAGES[ss.HEXO_POST][1] in post
