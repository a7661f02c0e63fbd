"""Standard WARC files (warcio), request + response records, written under a hidden temporary
name and renamed when complete; partial files of a crawl that died are salvaged record by record.
Touches disk."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.acquire.fetch import FetchResult

PART_SUFFIX = ".part"
_READ = 1 << 20


class WarcSink:
    """Writes one host's records into <dir>/crawl-<id>-<n>.warc.gz, rotating every `per_file` pages."""

    def __init__(self, directory: Path, crawl_id: str, per_file: int):
        self.directory = directory
        self.crawl_id = crawl_id
        self.per_file = per_file
        self.index = 0
        self.count = 0
        self.files: list[Path] = []
        self._fh: BinaryIO | None = None
        self._part: Path | None = None

    def _final_name(self) -> Path:
        return self.directory / f"crawl-{self.crawl_id}-{self.index:05d}.warc.gz"

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._part = self.directory / f".{self._final_name().name}{PART_SUFFIX}"
        self._fh = open(self._part, "wb")  # noqa: SIM115 - held open across write() calls, closed in close()

    def write(self, result: FetchResult) -> str:
        """Append the request and response records; returns the name of the file they went to.
        Both records are built in memory first and appended in one write, so a record that cannot
        be built costs that URL only and never leaves half a record in the file."""
        records = warc_records(result)
        if self._fh is None:
            self._open()
        assert self._fh is not None
        self._fh.write(records)
        self._fh.flush()  # in the kernel's hands: a killed crawl keeps it for salvage
        name = self._final_name().name
        self.count += 1
        if self.count % self.per_file == 0:
            self.close()
            self.index += 1
        return name

    def close(self) -> None:
        if self._fh is None or self._part is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = self._final_name()
        os.replace(self._part, final)
        self.files.append(final)
        self._fh = self._part = None


def warc_records(result: FetchResult) -> bytes:
    """A request and a response record (gzip members) built by warcio from what went over the wire:
    the request line as sent, the status line as received, the body with its codings removed (so
    Content-Encoding is dropped and Content-Length is the stored length)."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    uri = result.final_url
    date = result.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    status_line = f"{result.status} {result.reason_phrase}".rstrip()
    http_headers = StatusAndHeaders(
        status_line,
        result.headers + [("Content-Length", str(len(result.body)))],
        protocol=result.http_version,
    )
    response = writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(result.body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": date},
    )
    target = result.request_target or urlsplit(uri)._replace(scheme="", netloc="").geturl() or "/"
    request_headers = StatusAndHeaders(
        f"GET {target} {result.http_version}", result.request_headers, is_http_request=True
    )
    request = writer.create_warc_record(
        uri,
        "request",
        payload=io.BytesIO(b""),
        http_headers=request_headers,
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(request)
    writer.write_record(response)
    return buffer.getvalue()


def complete_prefix(path: Path) -> int:
    """Byte length of the run of complete gzip members at the start of a .warc.gz file: warcio
    writes one member per record, so a file cut anywhere is valid up to its last complete member.
    Reads the file once, in chunks, with bounded output (a record is checked, not kept)."""
    pos = 0
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        while pos < size:
            fh.seek(pos)
            d = zlib.decompressobj(wbits=31)
            fed = 0
            while not d.eof:
                chunk = fh.read(_READ)
                fed += len(chunk)
                at_end = not chunk
                try:
                    while True:  # output bounded; pending output drained before more input
                        out = d.decompress(chunk, _READ)
                        chunk = d.unconsumed_tail
                        if d.eof or (not chunk and len(out) < _READ):
                            break
                except zlib.error:
                    return pos
                if at_end and not d.eof:
                    return pos  # the member is cut short
            pos += fed - len(d.unused_data)
    return pos


def salvage_partials(directory: Path) -> list[Path]:
    """Turn hidden .part files left by a crawl that died into valid WARC files holding every complete
    record; returns the files written."""
    out: list[Path] = []
    if not directory.is_dir():
        return out
    for part in sorted(directory.glob(f".*.warc.gz{PART_SUFFIX}")):
        final = directory / part.name[1 : -len(PART_SUFFIX)]
        end = complete_prefix(part)
        if end:
            with open(part, "rb+") as fh:
                fh.truncate(end)
                os.fsync(fh.fileno())
            os.replace(part, final)
            out.append(final)
        else:
            part.unlink()
    return out
