"""Order independence, and bad input that must end as a recorded skip or a processed page."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import random

import pyarrow as pa
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.clean.site import build_site
from pipeline.config import PipelineConfig
from pipeline.run import finish, group_by_site, load_inputs, parse_inputs
from pipeline.store.tables import output_tables
from tests.conftest import BUNDLED, run_and_read, write_files
from tests.golden.test_drift import drift_site
from tests.golden.test_html_site import gazette

FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _tables_for(inputs, cfg) -> dict[str, dict[str, pa.Table]]:
    parsed, skipped = parse_inputs(inputs, cfg)
    results = [build_site(site, pages, cfg) for site, pages in group_by_site(parsed).items()]
    out = finish(results, skipped, cfg, n_inputs=len(inputs))
    return output_tables(out.sites, out.skipped, FIXED_TIME)


def test_shuffled_input_order_gives_identical_tables(tmp_path):
    files = {**drift_site(), **gazette()}
    files.update({f"naht/{p.name}": p.read_bytes() for p in BUNDLED.iterdir()})
    raw = write_files(tmp_path / "raw", files)
    cfg = PipelineConfig()
    inputs, _ = load_inputs(raw, cfg)
    reference = _tables_for(inputs, cfg)
    for seed in (1, 2, 3):
        shuffled = list(inputs)
        random.Random(seed).shuffle(shuffled)
        got = _tables_for(shuffled, cfg)
        assert got.keys() == reference.keys()
        for dataset in reference:
            assert got[dataset].keys() == reference[dataset].keys()
            for name, table in reference[dataset].items():
                assert got[dataset][name].equals(table), (seed, dataset, name)


def _warc_bytes(records: list[tuple[str, str, bytes]]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, ctype, body in records:
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return buf.getvalue()


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
    output, ds = run_and_read(raw, tmp_path / "out")
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
    assert output.summary["skipped_by_reason"]["too_large"] == 1


def test_warc_records_are_pages_of_their_host(tmp_path):
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
    pages.append(("https://news.example.org/logo.png", "image/png", b"\x89PNG...."))
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
