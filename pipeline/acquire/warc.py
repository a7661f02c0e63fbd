"""Read HTML and text response records out of WARC files with warcio (imported where a WARC file is
read: with fsspec it costs a process 0.1 s, and most raw folders hold none). Touches disk only."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from pipeline.acquire.paths import open_regular
from pipeline.config import LoadConfig
from pipeline.records import RawInput, Skipped

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _content_type(record) -> tuple[str, str | None]:
    header = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or ""
    parts = [p.strip() for p in header.split(";")]
    mime = parts[0].lower()
    charset = next(
        (p.split("=", 1)[1].strip("\"' ") for p in parts[1:] if p.lower().startswith("charset=")), None
    )
    return mime, charset


# what warcio raises on a damaged record: AttributeError for a header cut before WARC-Target-URI
_DAMAGED = (EOFError, ValueError, AttributeError)


def iter_warc_inputs(
    path: Path, source: str, site_hint: str, cfg: LoadConfig
) -> Iterator[RawInput | Skipped]:
    """iter_warc_records over a local WARC file (a regular file only)."""
    try:
        fh = open_regular(path)
    except OSError as exc:
        yield Skipped(site_hint, source, "unreadable", f"WARC: {type(exc).__name__}: {exc}")
        return
    with fh:
        yield from iter_warc_records(fh, lambda: os.fstat(fh.fileno()).st_size, source, site_hint, cfg)


def iter_warc_records(
    fh: BinaryIO, size: Callable[[], int], source: str, site_hint: str, cfg: LoadConfig
) -> Iterator[RawInput | Skipped]:
    """One RawInput per 2xx HTML/text response record of an open WARC file (local, or on object
    storage) whose length `size()` tells; the site is the target URI's host. A record cut short (a
    crawl that died, a copy that stopped: its body ends before its Content-Length, or the file ends
    inside its headers) is a `truncated` skip at its offset, a record warcio cannot parse an
    `unreadable` one; the records before either are read."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    it = ArchiveIterator(fh)
    broken: str | None = None
    try:
        for record in it:
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            site = host_of(url) or site_hint
            status = record.http_headers.get_statuscode() if record.http_headers else "200"
            mime, charset = _content_type(record)
            # read the body before asking for the offset: warcio's get_record_offset() consumes it
            data = record.content_stream().read(cfg.max_page_bytes + 1)
            short = len(data) <= cfg.max_page_bytes and getattr(record.raw_stream, "limit", 0) > 0
            rec_source = f"{source}#{it.get_record_offset()}"
            if short:
                yield Skipped(site, rec_source, "truncated", f"record of {url} ends before its length")
                continue
            if not str(status).startswith("2"):
                yield Skipped(site, rec_source, "http_status", f"status {status} for {url}")
                continue
            if mime not in _HTML_TYPES and mime != "text/plain":
                yield Skipped(site, rec_source, "unsupported_type", f"content type {mime or '(none)'}")
                continue
            if len(data) > cfg.max_page_bytes:
                yield Skipped(site, rec_source, "too_large", f"over {cfg.max_page_bytes} bytes")
                continue
            kind = "text" if mime == "text/plain" else "html"
            date = record.rec_headers.get_header("WARC-Date") or ""
            yield RawInput(site, rec_source, data, kind, url=url, declared_charset=charset, record_date=date)
    except (ArchiveLoadFailed, OSError, *_DAMAGED) as exc:
        broken = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    end = it.offset  # where the last whole record ended, or where the broken one starts
    left = size() - end
    if broken is not None:
        yield Skipped(site_hint, f"{source}#{end}" if end else source, "unreadable", f"WARC: {broken}")
    elif left > 0:  # warcio stops without a word at a record cut inside its headers
        yield Skipped(
            site_hint, f"{source}#{end}", "truncated", f"the file ends inside a record ({left} bytes)"
        )


def read_record(path: Path, offset: int, cfg: LoadConfig) -> bytes:
    """The body of the response record that starts at `offset` of a WARC file (as listed by
    iter_warc_inputs, which gives that offset in the record's source): a folder of crawl records is
    listed without holding their bytes, and each record is read again when it is parsed. Raises
    OSError when no record starts there (the file changed since it was listed)."""
    with open_regular(path) as fh:
        return read_record_at(fh, offset, cfg)


def read_record_at(fh: BinaryIO, offset: int, cfg: LoadConfig) -> bytes:
    """read_record on an open WARC file: a seek and the record's bytes only (by range, on object
    storage)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        fh.seek(offset)
        for record in ArchiveIterator(fh):
            return record.content_stream().read(cfg.max_page_bytes + 1)
    except (ArchiveLoadFailed, *_DAMAGED) as exc:
        raise OSError(f"WARC record at {offset}: {type(exc).__name__}: {exc}") from exc
    raise OSError(f"no WARC record at offset {offset}")
