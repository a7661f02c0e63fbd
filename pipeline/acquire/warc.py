"""Read HTML and text response records out of WARC files with warcio (imported where a WARC file is
read: with fsspec it costs a process 0.1 s, and most raw folders hold none). Touches disk only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

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


def iter_warc_inputs(
    path: Path, source: str, site_hint: str, cfg: LoadConfig
) -> Iterator[RawInput | Skipped]:
    """One RawInput per 2xx HTML/text response record; the site is the target URI's host."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                site = host_of(url) or site_hint
                status = record.http_headers.get_statuscode() if record.http_headers else "200"
                mime, charset = _content_type(record)
                # read the body before asking for the offset: warcio's get_record_offset() consumes it
                data = record.content_stream().read(cfg.max_page_bytes + 1)
                rec_source = f"{source}#{it.get_record_offset()}"
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
                yield RawInput(
                    site, rec_source, data, kind, url=url, declared_charset=charset, record_date=date
                )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        yield Skipped(site_hint, source, "unreadable", f"WARC: {type(exc).__name__}: {exc}")


def read_record(path: Path, offset: int, cfg: LoadConfig) -> bytes:
    """The body of the response record that starts at `offset` of a WARC file (as listed by
    iter_warc_inputs, which gives that offset in the record's source): a folder of crawl records is
    listed without holding their bytes, and each record is read again when it is parsed. Raises
    OSError when no record starts there (the file changed since it was listed)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                return record.content_stream().read(cfg.max_page_bytes + 1)
    except (ArchiveLoadFailed, EOFError, ValueError) as exc:
        raise OSError(f"WARC record at {offset}: {type(exc).__name__}: {exc}") from exc
    raise OSError(f"no WARC record at offset {offset}")
