"""Pure parts of the crawler: address checks (no packets sent), URL rules, XML parsing, WARC salvage."""

from __future__ import annotations

import pytest

from pipeline.acquire.addresses import forbidden_reason, is_allowed
from pipeline.acquire.discover import page_links, parse_feed, parse_sitemap
from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.fetch import FetchResult, parse_retry_after
from pipeline.acquire.urls import Scope, normalise
from pipeline.acquire.warc_writer import WarcSink, salvage_partials


@pytest.mark.parametrize(
    "address,reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.1.1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not-global"),
        ("2002:7f00:1::", "loopback"),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_forbidden_addresses(address, reason):
    assert forbidden_reason(address) == reason


def test_allow_list_entries():
    assert is_allowed("127.0.0.1", 8123, "127.0.0.1", ("127.0.0.1:8123",))
    assert not is_allowed("127.0.0.1", 8124, "127.0.0.1", ("127.0.0.1:8123",))
    assert is_allowed("localhost", 9000, "127.0.0.1", ("localhost",))
    assert is_allowed("intranet", 80, "10.0.0.5", ("10.0.0.5",))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://x.org/a",
        "data:text/html,hi",
        "javascript:alert(1)",
        "/relative/only",
        "http://",
    ],
)
def test_only_http_and_https(url):
    with pytest.raises(RefusedURL):
        normalise(url)


def test_normalise_and_scope():
    assert normalise("HTTP://Example.ORG:80/a/../b?x=1#frag") == "http://example.org/b?x=1"
    assert normalise("https://example.org") == "https://example.org/"
    assert normalise("http://h.org//evil.org/x") == "http://h.org/evil.org/x"
    assert normalise("c", base="http://h.org:8080/a/b") == "http://h.org:8080/a/c"
    scope = Scope({"h.org"}, include=(r"/docs/",), exclude=(r"\.pdf$",))
    assert "http://h.org/docs/x" in scope
    assert "http://h.org/docs/x.pdf" not in scope
    assert "http://h.org/blog/x" not in scope
    assert "http://other.org/docs/x" not in scope


def test_xml_is_parsed_without_entity_expansion():
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><urlset><url><loc>http://h.org/&xxe;</loc></url>'
        b"<url><loc>http://h.org/&b;</loc></url><url><loc>http://h.org/ok</loc></url></urlset>"
    )
    pages, nested = parse_sitemap(evil, "http://h.org/sitemap.xml")
    assert "http://h.org/ok" in pages and not any("root:" in p or "aaaa" in p for p in pages) and nested == []


def test_sitemap_index_and_feeds():
    index = b"<sitemapindex><sitemap><loc>http://h.org/s1.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(index, "http://h.org/") == ([], ["http://h.org/s1.xml"])
    rss = b"<rss><channel><link>http://h.org/</link><item><link>http://h.org/p1</link></item></channel></rss>"
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="/p2"/></entry>'
        b'<entry><link rel="edit" href="/edit"/></entry></feed>'
    )
    assert parse_feed(rss, "http://h.org/feed") == ["http://h.org/p1"]
    assert parse_feed(atom, "http://h.org/atom") == ["http://h.org/p2"]


def test_page_links_resolve_against_base():
    body = (
        b'<html><head><base href="http://h.org/dir/"></head><body><a href="x">x</a><a href="mailto:a@b">m</a>'
        b'<a href="/y#z">y</a><a href="x">again</a></body></html>'
    )
    assert page_links(body, "http://h.org/page") == ["http://h.org/dir/x", "http://h.org/y"]


def test_retry_after_forms():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_interrupted_warc_is_salvaged_record_by_record(tmp_path):
    sink = WarcSink(tmp_path, "c1", per_file=100)
    for i in range(3):
        sink.write(
            FetchResult(
                url=f"http://h.org/{i}",
                final_url=f"http://h.org/{i}",
                status=200,
                content_type="text/html",
                body=b"<p>page %d</p>" % i * 40,
                headers=[("Content-Type", "text/html")],
                request_headers=[("Host", "h.org")],
            )
        )
    part = sink._part  # the crawl "dies" here: the file is still open under its temporary name
    part.write_bytes(part.read_bytes()[:-25])
    assert [p.name for p in tmp_path.iterdir()] == [part.name] and part.name.startswith(".")
    (final,) = salvage_partials(tmp_path)
    from warcio.archiveiterator import ArchiveIterator

    with open(final, "rb") as fh:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), len(r.content_stream().read()))
            for r in ArchiveIterator(fh)
        ]
    assert [(t, u) for t, u, _ in records] == [
        ("request", "http://h.org/0"),
        ("response", "http://h.org/0"),
        ("request", "http://h.org/1"),
        ("response", "http://h.org/1"),
        ("request", "http://h.org/2"),
    ]
    assert records[1][2] == len(b"<p>page 0</p>" * 40)
