"""Standard WARC files (warcio), request + response records, written under a hidden temporary
name and renamed when complete; partial files of a crawl that died are salvaged record by record.
Touches disk."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.acquire.fetch import FetchResult

PART_SUFFIX = ".part"


class WarcSink:
    """Writes one host's records into <dir>/crawl-<id>-<n>.warc.gz, rotating every `per_file` pages."""

    def __init__(self, directory: Path, crawl_id: str, per_file: int):
        self.directory = directory
        self.crawl_id = crawl_id
        self.per_file = per_file
        self.index = 0
        self.count = 0
        self.files: list[Path] = []
        self._fh = None
        self._writer: WARCWriter | None = None
        self._part: Path | None = None

    def _final_name(self) -> Path:
        return self.directory / f"crawl-{self.crawl_id}-{self.index:05d}.warc.gz"

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._part = self.directory / f".{self._final_name().name}{PART_SUFFIX}"
        self._fh = open(self._part, "wb")
        self._writer = WARCWriter(self._fh, gzip=True)

    def write(self, result: FetchResult) -> str:
        """Append the request and response records; returns '<file name>' the response went to."""
        if self._writer is None:
            self._open()
        assert self._writer is not None and self._fh is not None
        uri = result.final_url
        status_line = f"{result.status} OK" if result.status == 200 else str(result.status)
        http_headers = StatusAndHeaders(
            status_line, result.headers + [("Content-Length", str(len(result.body)))], protocol="HTTP/1.1"
        )
        date = result.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = self._writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(result.body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date},
        )
        path = uri.split("/", 3)[3] if uri.count("/") >= 3 else ""
        request_headers = StatusAndHeaders(
            f"GET /{path} HTTP/1.1", result.request_headers, is_http_request=True
        )
        request = self._writer.create_warc_record(
            uri,
            "request",
            payload=io.BytesIO(b""),
            http_headers=request_headers,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        self._writer.write_record(request)
        self._writer.write_record(response)
        self._fh.flush()
        name = self._final_name().name
        self.count += 1
        if self.count % self.per_file == 0:
            self.close()
            self.index += 1
        return name

    def close(self) -> None:
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = self._final_name()
        os.replace(self._part, final)
        self.files.append(final)
        self._fh = self._writer = self._part = None


def complete_prefix(path: Path) -> int:
    """Byte length of the run of complete gzip members at the start of a .warc.gz file: warcio
    writes one member per record, so a file cut anywhere is valid up to its last complete member."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            d.decompress(data[pos:])
        except zlib.error:
            break
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
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
