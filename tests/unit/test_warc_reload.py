"""Crawl records are listed without their bytes and read again at their offset when parsed: the
bytes read again are those first listed, in gzipped and plain WARC files; a file that changed under
the run gives a recorded `unreadable` skip, not a crash."""

from __future__ import annotations

import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.acquire.files import iter_raw_inputs, load, unload
from pipeline.config import LoadConfig
from pipeline.records import RawInput, Skipped
from tests.support import write_files

CFG = LoadConfig()


def warc_bytes(n: int, gzip: bool) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    for i in range(n):
        body = (
            f"<html><body><h1>Story {i}</h1><p>{'words of the story ' * (50 + i)}</p></body></html>".encode()
        )
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                f"https://news.example.org/story-{i}",
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
            )
        )
    return buf.getvalue()


@pytest.mark.parametrize("name,gzip", [("crawl/a.warc.gz", True), ("crawl/b.warc", False)])
def test_records_read_again_at_their_offset_are_the_listed_bytes(tmp_path, name, gzip):
    raw = write_files(tmp_path / "raw", {name: warc_bytes(5, gzip)})
    listed = [r for r in iter_raw_inputs(raw, CFG) if isinstance(r, RawInput)]
    assert len(listed) == 5 and len({r.source for r in listed}) == 5
    unloaded = [unload(r) for r in listed]
    assert all(u.unloaded and u.data == b"" for u in unloaded)
    for original, again in zip(listed, (load(raw, u, CFG) for u in unloaded)):
        assert isinstance(again, RawInput) and not again.unloaded
        assert again.data == original.data and again.url == original.url and again.source == original.source


def test_a_warc_file_changed_under_the_run_is_an_unreadable_skip(tmp_path):
    raw = write_files(tmp_path / "raw", {"crawl/a.warc.gz": warc_bytes(3, True)})
    last = unload([r for r in iter_raw_inputs(raw, CFG) if isinstance(r, RawInput)][-1])
    (raw / "crawl/a.warc.gz").write_bytes(warc_bytes(1, True))  # shorter now: no record at that offset
    got = load(raw, last, CFG)
    assert isinstance(got, Skipped) and got.reason == "unreadable" and got.source == last.source
    assert "offset" in got.detail
