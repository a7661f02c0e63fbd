"""Site names follow one rule (README "Running it"): a plain file's site is its folder under raw/, a
crawled record's site is its URL's host (with a non-default port), a web-archive capture belongs to
the host it captured."""

from pathlib import Path

import pandas as pd

from pipeline import run_incremental
from pipeline.acquire.sites import site_of_url
from pipeline.config import LoadConfig, PipelineConfig
from tests.support import warc_file


def _page(title: str, canonical: str | None) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>"
        f"<p>{title} is a page with enough words in it to be kept as the article of the page.</p>"
        "</article></body></html>"
    )


def _blog(raw: Path) -> Path:
    folder = raw / "myblog"
    folder.mkdir(parents=True)
    for i in range(4):
        (folder / f"post-{i}.html").write_text(_page(f"Post {i}", f"https://blog.example.org/post-{i}/"))
    (folder / "about.html").write_text(_page("About", None))  # no canonical link on this one
    return raw


def test_a_raw_folder_is_one_site_whatever_its_pages_link_to(tmp_path):
    run_incremental(_blog(tmp_path / "raw"), tmp_path / "out")
    docs = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(set(docs.site)) == ["myblog"]
    assert docs.url.notna().sum() == 4  # the canonical URL is still kept as the page's URL


def test_host_based_sites_when_asked(tmp_path):
    cfg = PipelineConfig(load=LoadConfig(sites_by_host=True))
    run_incremental(_blog(tmp_path / "raw"), tmp_path / "out", cfg)
    docs = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(set(docs.site)) == ["blog.example.org", "myblog"]


def _warc(path: Path, urls: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        warc_file([(url, _page(f"Captured page {i}", None).encode()) for i, url in enumerate(urls)])
    )


def test_crawled_hosts_keep_their_port_and_archive_captures_their_original_host(tmp_path):
    raw = tmp_path / "raw"
    _warc(
        raw / "crawl" / "a.warc.gz",
        [
            "http://127.0.0.1:8001/a",
            "http://127.0.0.1:8002/b",
            "https://web.archive.org/web/20200101000000/https://news.example.com/x",
        ],
    )
    run_incremental(raw, tmp_path / "out")
    docs = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(docs.site) == ["127.0.0.1:8001", "127.0.0.1:8002", "news.example.com"]


def test_site_of_url():
    assert site_of_url("https://Example.org:443/a") == "example.org"
    assert site_of_url("http://example.org:8080/a") == "example.org:8080"
    assert site_of_url("http://[::1]:8080/") == "[::1]:8080"
    assert site_of_url("https://web.archive.org/web/2019id_/http://old.example.net/p") == "old.example.net"
    assert site_of_url("not a url") is None


def _host_page(host: str, i: int) -> bytes:
    return (
        f"<html><head><title>Note {i} of {host}</title></head><body>"
        f"<nav><a href='/'>{host} home</a> <a href='/about'>About the {host} team</a></nav>"
        f"<article><h1>Note {i} of {host}</h1><p>Note {i} says something of its own about {host}: "
        f"the {i}th thing worth writing down this week, in a sentence long enough to keep.</p></article>"
        f"<footer><p>Copyright {host}, every right reserved, written by the people of {host}.</p></footer>"
        "</body></html>"
    ).encode()


def _host_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(warc_file(pages))


def test_the_hosts_of_one_warc_file_are_built_as_when_each_has_its_own_folder(tmp_path):
    hosts = ["alpha.example", "beta.example", "gamma.example"]
    pages = {h: [(f"https://{h}/note-{i}", _host_page(h, i)) for i in range(4)] for h in hosts}
    mixed = [p for i in range(4) for h in reversed(hosts) for p in pages[h][i : i + 1]]  # hosts interleaved
    _host_warc(tmp_path / "one" / "crawl" / "all.warc.gz", mixed)
    for h in hosts:
        _host_warc(tmp_path / "apart" / h / "pages.warc.gz", pages[h])
    for name in ("one", "apart"):
        run_incremental(tmp_path / name, tmp_path / f"out-{name}")

    def content(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        docs = pd.read_parquet(tmp_path / f"out-{name}" / "documents")
        docs = docs[["site", "url", "title", "text"]].sort_values("url").reset_index(drop=True)
        bp = pd.read_parquet(tmp_path / f"out-{name}" / "boilerplate")
        return docs, bp[["site", "text", "n_pages"]].sort_values(["site", "text"]).reset_index(drop=True)

    (docs, bp), (docs_apart, bp_apart) = content("one"), content("apart")
    assert sorted(set(docs.site)) == hosts and len(docs) == 12
    for row in docs.itertuples():
        assert "home" not in row.text and "Copyright" not in row.text and "something of its own" in row.text
    pd.testing.assert_frame_equal(docs, docs_apart)
    pd.testing.assert_frame_equal(bp, bp_apart)
