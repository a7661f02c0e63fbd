"""The crawler against misbehaving servers on 127.0.0.1: robots.txt edge cases (RFC 9309), content
codings, bad links, headers and bodies, slow-drip responses. Each case costs its URL only."""

from __future__ import annotations

import gzip
import threading
import tracemalloc
import zlib

import brotli
import pytest

from pipeline.config import CrawlConfig
from tests.crawl import site_server as ss
from tests.crawl.crawling import run_crawl, warc_responses

HTML = {"Content-Type": "text/html"}


def fast(site: ss.Site, **kw) -> CrawlConfig:
    opts = dict(min_delay=0.0, backoff_base=0.01, max_retries=1, allow_hosts=(site.base.split("//")[1],))
    return CrawlConfig(**{**opts, **kw})


@pytest.fixture
def site():
    s = ss.serve(ss.Site())
    yield s
    ss.stop(s)


def outcomes(log, site) -> dict[str, tuple]:
    return {
        u.replace(site.base, ""): (r.outcome, r.reason if isinstance(r.reason, str) else None)
        for u, r in log.set_index("url").iterrows()
    }


# -- robots.txt ---------------------------------------------------------------------------------------
def home(links) -> tuple:
    return (200, HTML, ss.page("Home", "A home page linking to the others.", links))


def test_robots_holds_for_redirect_targets(tmp_path, site):
    site.routes.update(
        {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
            "/": home(["/jump", "/open"]),
            "/jump": (302, {"Location": "/private/secret"}, b""),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
            "/private/secret": (200, HTML, ss.page("Secret", "must never be fetched")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site))
    assert "/private/secret" not in site.paths()
    assert outcomes(log, site)["/jump"] == ("disallowed", "robots_txt")
    assert sorted(warc_responses(tmp_path / "raw")) == [site.base + "/", site.base + "/open"]


def test_a_robots_txt_over_the_size_limit_is_parsed_not_ignored(tmp_path, site):
    rules = b"User-agent: *\nDisallow: /private/\n"
    site.routes.update(
        {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, rules + b"# padding\n" * 1_200_000),  # 12 MB
            "/": home(["/private/x", "/open"]),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
            "/private/x": (200, HTML, ss.page("Secret", "must never be fetched")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site))
    assert "/private/x" not in site.paths() and "/open" in site.paths()
    assert outcomes(log, site)["/private/x"] == ("disallowed", "robots_txt")


@pytest.mark.parametrize("content_type", ["application/octet-stream", None, "text/html"])
def test_robots_txt_is_parsed_whatever_its_media_type(tmp_path, site, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    site.routes.update(
        {
            "/robots.txt": (200, headers, b"User-agent: *\nDisallow: /private/\n"),
            "/": home(["/private/x", "/open"]),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
            "/private/x": (200, HTML, ss.page("Secret", "must never be fetched")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site))
    assert "/private/x" not in site.paths() and "/open" in site.paths()
    assert stats.disallowed == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_robots_txt_4xx_allows_everything(tmp_path, site, status):
    site.routes.update(
        {
            "/robots.txt": (status, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n"),
            "/": home(["/open"]),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
        }
    )
    stats, _ = run_crawl(tmp_path, site, fast(site))
    assert stats.stored == 2


@pytest.mark.parametrize("status", [500, 503])
def test_robots_txt_server_error_after_retries_disallows_everything(tmp_path, site, status):
    site.routes.update(
        {
            "/robots.txt": (status, {"Content-Type": "text/plain"}, b""),
            "/": home(["/open"]),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site, max_retries=2))
    assert site.paths() == ["/robots.txt"] * 3  # retried, then nothing else requested
    assert stats.stored == 0 and outcomes(log, site)["/"] == ("disallowed", "robots_unreachable")
    assert "robots.txt could not be read" in stats.seed_errors[site.base + "/"]


# -- content codings ----------------------------------------------------------------------------------
TEXT = ss.page("Coded", "A page sent with a content coding. " * 200)


@pytest.mark.parametrize(
    "coding,body",
    [
        ("gzip", gzip.compress(TEXT)),
        ("gzip, gzip", gzip.compress(gzip.compress(TEXT))),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate, as many servers send it
        ("br", brotli.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),
    ],
)
def test_every_offered_content_coding_is_decoded(tmp_path, site, coding, body):
    site.routes.update(
        {
            "/robots.txt": (404, {}, b""),
            "/": (200, {"Content-Type": "text/html", "Content-Encoding": coding}, body),
        }
    )
    stats, _ = run_crawl(tmp_path, site, fast(site))
    assert stats.stored == 1
    sent = site.hits[-1].headers["Accept-Encoding"]
    assert {c.strip() for c in sent.split(",")} == {"gzip", "deflate", "br"}
    from warcio.archiveiterator import ArchiveIterator

    (warc,) = (tmp_path / "raw").rglob("*.warc.gz")
    with open(warc, "rb") as fh:
        (resp,) = [
            (r.http_headers.get_header("Content-Encoding"), r.content_stream().read())
            for r in ArchiveIterator(fh)
            if r.rec_type == "response"
        ]
    assert resp == (None, TEXT)


@pytest.fixture(scope="module")
def bomb_body() -> bytes:
    return ss.stacked_gzip_bomb(256)


def test_stacked_gzip_bomb_costs_that_url_only_in_bounded_memory(tmp_path, site, bomb_body):
    site.routes.update(
        {
            "/robots.txt": (404, {}, b""),
            "/": home(["/bomb", "/open"]),
            "/bomb": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip, gzip"}, bomb_body),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
        }
    )
    tracemalloc.start()
    try:
        stats, log = run_crawl(tmp_path, site, fast(site))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcomes(log, site)["/bomb"] == ("skipped", "too_large")
    assert stats.stored == 2
    assert peak < 64 << 20, peak  # the 10 MB body limit and a few chunks, not 256 MiB


def test_broken_bodies_and_unknown_codings_cost_that_url_only(tmp_path, site):
    good = gzip.compress(TEXT)
    site.routes.update(
        {
            "/robots.txt": (404, {}, b""),
            "/": home(["/broken", "/cut", "/zstd", "/open"]),
            "/broken": (
                200,
                {"Content-Type": "text/html", "Content-Encoding": "gzip"},
                b"not gzip at all" * 10,
            ),
            "/cut": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, good[: len(good) // 2]),
            "/zstd": (200, {"Content-Type": "text/html", "Content-Encoding": "zstd"}, b"(\xb5/\xfd..."),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site))
    got = outcomes(log, site)
    assert got["/broken"] == ("failed", "bad_encoding") and got["/cut"] == ("failed", "bad_encoding")
    assert got["/zstd"] == ("skipped", "unsupported_encoding")
    assert stats.stored == 2 and sorted(warc_responses(tmp_path / "raw")) == [
        site.base + "/",
        site.base + "/open",
    ]
    assert site.counts["/broken"] == 1  # not retried: the same bytes would come again


# -- bad links, headers and bodies --------------------------------------------------------------------
def test_bad_links_headers_and_bodies_cost_their_url_only(tmp_path, site):
    site.routes.update(
        {
            "/robots.txt": (404, {}, b""),
            "/": (
                200,
                HTML,
                b'<html><body><a href="http://[::1">v6</a> <a href="http://exa mple.org/">space</a>'
                b'<a href="/badloc">bad redirect</a> <a href="/header">header</a> <a href="/binary">bin</a>'
                b'<a href="/badlen">bad length</a> <a href="/open">open</a></body></html>',
            ),
            "/badloc": (302, {"Location": "http://[::1"}, b""),
            "/header": ss.raw_response(
                "HTTP/1.1 200 Fine\r\nContent-Type: text/html\r\nX-Title: café 新\r\nConnection: close\r\n".encode(),
                ss.page("Header", "A header value in UTF-8."),
            ),
            "/binary": (200, HTML, b"\x00\xff\xfe<a href='/open'>" + bytes(range(256)) * 20),
            "/badlen": ss.raw_response(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: abc\r\n", b"x"
            ),
            "/open": (200, HTML, ss.page("Open", "An open page.")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site))
    got = outcomes(log, site)
    assert got["http://[::1"] == ("refused", "bad_url") and got["http://exa mple.org/"] == (
        "refused",
        "bad_url",
    )
    assert "linked from" in log.set_index("url").loc["http://[::1"].error
    assert got["/badloc"] == ("failed", "bad_redirect")
    assert got["/badlen"][0] == "failed"
    assert got["/header"] == ("stored", None) and got["/binary"] == ("stored", None)
    assert got["/open"] == ("stored", None)
    from warcio.archiveiterator import ArchiveIterator

    (warc,) = (tmp_path / "raw").rglob("*.warc.gz")
    with open(warc, "rb") as fh:
        lines = {
            r.rec_headers.get_header("WARC-Target-URI"): r.http_headers.statusline
            for r in ArchiveIterator(fh)
            if r.rec_type == "response"
        }
    assert lines[site.base + "/header"] == "200 Fine"  # the status line as the server sent it


def test_slow_drip_response_ends_at_the_request_deadline(tmp_path, site):
    site.routes.update(
        {
            "/robots.txt": (404, {}, b""),
            "/": home(["/drip", "/open"]),
            "/drip": ss.drip(lines=60, every=0.1),  # 6 s of headers, each read well within read_timeout
            "/open": (200, HTML, ss.page("Open", "An open page.")),
        }
    )
    stats, log = run_crawl(tmp_path, site, fast(site, read_timeout=1.0, request_deadline=1.0, max_retries=3))
    assert outcomes(log, site)["/drip"] == ("failed", "deadline")
    assert site.counts["/drip"] == 1  # the deadline covers retries too: no second attempt
    assert outcomes(log, site)["/open"] == ("stored", None)


def test_stop_request_ends_a_blocked_read(tmp_path, site):
    release, seen = threading.Event(), threading.Event()
    site.routes.update(
        {"/robots.txt": (404, {}, b""), "/": home(["/held", "/open"]), "/held": ss.held(release, seen)}
    )
    stop = threading.Event()
    threading.Thread(target=lambda: seen.wait(30) and stop.set(), daemon=True).start()
    try:
        stats, log = run_crawl(tmp_path, site, fast(site), stop=stop)
    finally:
        release.set()
    assert stats.interrupted and stats.stored == 1
    assert "/held" not in set(log.url.str.replace(site.base, ""))  # not done: left for the next crawl
    assert "/open" not in site.paths()
    assert not list(tmp_path.rglob(".*.part")) and warc_responses(tmp_path / "raw") == [site.base + "/"]
