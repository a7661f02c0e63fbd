"""URL normalisation as a browser sends URLs (pure), and seed lists read from a file."""

from __future__ import annotations

import pytest

from pipeline.acquire.discover import page_links
from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.urls import host_key, normalise, read_url_list


@pytest.mark.parametrize(
    "url,expected",
    [
        # an IRI path: UTF-8 percent-encoded, as browsers put it on the wire
        (
            "http://h.org/2018/01/08/spark2-2新版本编译打包/",
            "http://h.org/2018/01/08/spark2-2%E6%96%B0%E7%89%88%E6%9C%AC%E7%BC%96%E8%AF%91%E6%89%93%E5%8C%85/",
        ),
        ("http://h.org/search?q=ä b&lang=中文", "http://h.org/search?q=%C3%A4%20b&lang=%E4%B8%AD%E6%96%87"),
        # IDN host: IDNA (punycode), lower case; the full-stop variant of CJK text too
        ("http://Bücher.Example/ä", "http://xn--bcher-kva.example/%C3%A4"),
        ("https://日本。jp/", "https://xn--wgv71a.jp/"),
        (
            "http://xn--bcher-kva.example/%c3%a4?%7e",
            "http://xn--bcher-kva.example/%C3%A4?%7E",
        ),  # one spelling
        # fragment, default port, credentials, dot segments, trailing dot
        ("HTTP://Example.ORG:80/a/../b?x=1#frag", "http://example.org/b?x=1"),
        ("https://user:secret@h.org:443/p#x", "https://h.org/p"),
        ("http://h.org./", "http://h.org/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://h.org/%E6%96%B0", "http://h.org/%E6%96%B0"),  # already encoded: unchanged
    ],
)
def test_normalise_gives_the_uri_a_browser_sends(url, expected):
    assert normalise(url) == expected
    assert normalise(expected) == expected  # canonical: normalising again changes nothing
    expected.encode("ascii")


def test_relative_iri_links_resolve_to_the_same_canonical_url():
    base = "http://127.0.0.1:8000/2018/01/08/"
    assert normalise("spark2-2新版本编译打包/#comments", base=base) == normalise(
        "http://127.0.0.1:8000/2018/01/08/spark2-2%e6%96%b0%e7%89%88%e6%9c%ac%e7%bc%96%e8%af%91%e6%89%93%e5%8c%85/"
    )
    assert host_key(normalise("http://Bücher.example:8080/")) == "xn--bcher-kva.example:8080"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1/x",
        "http://ex ample.org/",
        "http://h.org:99999/",
        "http://a..b/",
        "x" * 9000,
    ],
)
def test_malformed_urls_are_refused_not_raised(url):
    with pytest.raises(RefusedURL) as err:
        normalise(url, base="http://h.org/")
    assert err.value.reason in ("bad_url", "scheme")


def test_page_links_report_malformed_hrefs_and_keep_the_rest():
    body = (
        b'<a href="http://[::1">v6</a><a href="/ok">ok</a><a href="mailto:a@b.org">m</a>'
        b'<a href="http://exa mple.org/">sp</a><a href="/%E6%96%B0">new</a><a href="/\xe6\x96\xb0">same</a>'
    )
    bad: list = []
    assert page_links(body, "http://h.org/") == ["http://h.org/ok", "http://h.org/%E6%96%B0"]
    page_links(body, "http://h.org/", bad)
    assert [href for href, _ in bad] == ["http://[::1", "http://exa mple.org/"]  # mailto: is no error
    assert all(exc.reason == "bad_url" for _, exc in bad)


def test_url_list_file_skips_comments_and_blank_lines(tmp_path):
    f = tmp_path / "urls.txt"
    f.write_text("# seeds\n\nhttps://a.org/x\n   \n  http://b.org/路径  \n#http://c.org/\n", encoding="utf-8")
    assert read_url_list(f) == ["https://a.org/x", "http://b.org/%E8%B7%AF%E5%BE%84"]
    f.write_text("https://a.org/\nftp://b.org/\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"urls.txt:2: only http and https"):
        read_url_list(f)
