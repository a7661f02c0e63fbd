"""Order independence, and bad input that must end as a recorded skip or a processed page."""

from __future__ import annotations

import functools
import gzip
import io
import os
import random
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import run_incremental
from tests.support import (
    BUNDLED,
    article_page,
    assert_same_files,
    drift_site,
    gazette,
    naht_files,
    read_tables,
    run_and_read,
    syndicated_sites,
    write_files,
    write_shuffled,
)


def _warc_bytes(records: list[tuple[str, str, bytes]]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, ctype, body in records:
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return buf.getvalue()


@functools.cache  # built once: a WARC file's record ids and dates differ from one build to the next
def shuffle_corpus() -> dict[str, str | bytes]:
    """Nine raw folders, nine sites: the HTML site, the bundled pages, the drifting template, three
    sites that share an article, a WARC of one host beside an image, pages of two hosts in one folder
    (by canonical link), and a folder of files that cannot be used."""
    files: dict[str, str | bytes] = {**drift_site(), **gazette(), **naht_files()}
    files.update({f"news-{name}": text for name, text in syndicated_sites().items()})
    files["crawl/news.warc.gz"] = _warc_bytes(_warc_pages())
    for i in range(8):
        html = article_page(i)[0].replace(
            "<head>", f'<head><link rel="canonical" href="https://host{i % 2}.example/story/{i}">'
        )
        files[f"mixed/page{i}.html"] = html
    files.update({"bad/empty.html": b"", "bad/picture.png": b"\x89PNG\r\n\x1a\n...."})
    return files


@pytest.fixture(scope="module")
def processed_in_sorted_order(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sorted")
    out = root / "processed"
    run_incremental(write_files(root / "raw", dict(sorted(shuffle_corpus().items()))), out)
    return out


def test_the_reference_run_covers_what_order_could_change(processed_in_sorted_order):
    ds = read_tables(processed_in_sorted_order)
    docs = ds["documents"]
    assert len(docs) == 34 and docs.site.nunique() == 8  # a folder of plain files is one site
    assert {"mixed", "news.example.org"} <= set(docs.site)
    assert docs.duplicate_of.notna().sum() == 2 and len(ds["boilerplate"]) > 0
    assert sorted(ds["skipped"].reason) == ["empty", "unsupported_type", "unsupported_type"]


@pytest.mark.parametrize("seed, workers", [(1, 0), (2, 0), (3, 2)])
def test_shuffled_file_order_gives_identical_tables(processed_in_sorted_order, tmp_path, seed, workers):
    """The files created in another order with other mtimes, parsed folder by folder in-process or on
    two worker processes (whose batches come back in any order): the same files, rows in the same
    order."""
    raw = write_shuffled(tmp_path / "raw", shuffle_corpus(), random.Random(seed))
    out = tmp_path / "processed"
    run_incremental(raw, out, workers=workers)
    assert_same_files(out, processed_in_sorted_order)


def test_bad_inputs_are_recorded_and_the_run_completes(tmp_path):
    good = (BUNDLED / sorted(os.listdir(BUNDLED))[0]).read_text(encoding="utf-8")
    files = {
        "bad/empty.html": b"",
        "bad/binary.html": bytes(random.Random(0).randrange(256) for _ in range(5000)) + b"\x00" * 10,
        "bad/truncated.html": "<html><head><title>Cut off</title></head><body><p>Hello, this page stops in the mid",
        "bad/undecodable.txt": b"Plain words then " + b"\x81\x8d\x8f\x90\x9d" * 50,
        "bad/huge.html": b"<html><body>"
        + b"<p>lorem ipsum dolor sit amet</p>" * (20 * 1024 * 1024 // 33)
        + b"</body></html>",
        "bad/broken.html.gz": b"\x1f\x8b\x08\x00 this is not gzip at all",
        "bad/picture.png": b"\x89PNG\r\n\x1a\n....",
        "bad/good.txt": good,
    }
    raw = write_files(tmp_path / "raw", files)
    summary, ds = run_and_read(raw, tmp_path / "out")
    reasons = dict(zip(ds["skipped"].source, ds["skipped"].reason))
    assert reasons == {
        "bad/empty.html": "empty",
        "bad/binary.html": "binary",
        "bad/undecodable.txt": "undecodable",
        "bad/huge.html": "too_large",
        "bad/broken.html.gz": "unreadable",
        "bad/picture.png": "unsupported_type",
    }
    assert (ds["skipped"].detail.str.len() > 0).all()
    docs = ds["documents"]
    assert set(docs.source) == {"bad/truncated.html", "bad/good.txt"}
    assert "Hello, this page stops" in docs[docs.source == "bad/truncated.html"].text.iloc[0]
    assert summary["skipped_by_reason"]["too_large"] == 1


def _warc_pages() -> list[tuple[str, str, bytes]]:
    """Three cp1252 story pages of news.example.org and an image."""
    pages = [
        (
            f"https://news.example.org/2024/03/0{i}/story-{i}",
            "text/html; charset=windows-1252",
            f"<html><head><title>Story {i} – News</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Caf\xe9 story {i}</h1><p>{'Unique words for this particular story. ' * 3}{i}</p>"
            f"</article></body></html>".encode("cp1252"),
        )
        for i in range(1, 4)
    ]
    return [*pages, ("https://news.example.org/logo.png", "image/png", b"\x89PNG....")]


def test_warc_records_are_pages_of_their_host(tmp_path):
    pages = _warc_pages()
    raw = write_files(tmp_path / "raw", {"crawl/news.warc.gz": _warc_bytes(pages)})
    _, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].sort_values("url")
    assert list(docs.site.unique()) == ["news.example.org"]
    assert docs.url.tolist() == [u for u, _, _ in pages[:3]]
    assert docs.source.str.match(r"crawl/news\.warc\.gz#\d+$").all()
    assert docs.title.tolist() == [f"Café story {i}" for i in range(1, 4)]
    assert [d.isoformat() for d in docs.published] == [f"2024-03-0{i}" for i in range(1, 4)]
    assert ds["skipped"].reason.tolist() == ["unsupported_type"]


def test_gzipped_pages_are_read(tmp_path):
    raw = write_files(
        tmp_path / "raw", {f"naht/{p.name}.gz": gzip.compress(p.read_bytes()) for p in BUNDLED.iterdir()}
    )
    _, ds = run_and_read(raw, tmp_path / "out")
    assert len(ds["documents"]) == 5 and ds["documents"].published.notna().all()
