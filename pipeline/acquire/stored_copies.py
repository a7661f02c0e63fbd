"""The stored copy of a page from an earlier crawl, read back from its WARC file: a page that comes
back 304 Not Modified has no body, but its links are still needed to find the pages an interrupted
crawl never reached. Each WARC file is indexed (URL -> record offset) once, on first use. Touches disk."""

from __future__ import annotations

import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.acquire.fetch import charset_of


class StoredCopies:
    def __init__(self, folder: Path, limit: int):
        self.folder, self.limit = folder, limit
        self._index: dict[str, dict[str, int]] = {}

    def _offsets(self, warc_file: str) -> dict[str, int]:
        if warc_file not in self._index:
            offsets: dict[str, int] = {}
            try:
                with open(self.folder / Path(warc_file).name, "rb") as fh:
                    records = ArchiveIterator(fh)
                    for record in records:
                        if record.rec_type == "response":
                            offsets[record.rec_headers.get_header("WARC-Target-URI")] = (
                                records.get_record_offset()
                            )
            except (OSError, ArchiveLoadFailed, zlib.error, EOFError):
                pass  # gone or damaged: the records read so far still count
            self._index[warc_file] = offsets
        return self._index[warc_file]

    def body(self, warc_file: str | None, url: str) -> tuple[bytes, str | None] | None:
        """(body, charset) of url's response record in warc_file, or None when it is not there."""
        if not warc_file:
            return None
        offset = self._offsets(warc_file).get(url)
        if offset is None:
            return None
        try:
            with open(self.folder / Path(warc_file).name, "rb") as fh:
                fh.seek(offset)
                record = next(iter(ArchiveIterator(fh)))
                body = record.content_stream().read(self.limit)
                content_type = record.http_headers.get_header("Content-Type") or ""
        except (OSError, ArchiveLoadFailed, zlib.error, EOFError, StopIteration):
            return None
        return body, charset_of(content_type)
