"""Walk a raw folder (raw/<site>/**) and yield RawInput records or Skipped ones. Touches disk only."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from pipeline.acquire import warc
from pipeline.config import LoadConfig
from pipeline.records import RawInput, Skipped, UnchangedFile

DEFAULT_SITE = "_root"  # site for files lying directly in the raw root


def list_relative(raw_root: Path) -> list[str]:
    """Every regular, non-hidden file below raw_root as a POSIX path relative to it, sorted so that
    runs are reproducible. Symbolic links are not followed (nothing outside raw/ is read)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(raw_root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, raw_root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        for name in filenames:
            if not name.startswith(".") and not os.path.islink(os.path.join(dirpath, name)):
                out.append(prefix + name)
    return sorted(out)


def _kind_of(name: str, cfg: LoadConfig) -> str | None:
    lower = name.lower()
    if any(lower.endswith(s) for s in cfg.warc_suffixes):
        return "warc"
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith(cfg.html_suffixes):
        return "html"
    if lower.endswith(cfg.text_suffixes):
        return "text"
    return None


def _read_limited(path: Path, limit: int) -> bytes:
    """Read a file (gunzipping .gz) but never more than limit+1 bytes: no decompression bombs."""
    with open(path, "rb") as raw:
        if path.name.lower().endswith(".gz"):
            return gzip.GzipFile(fileobj=raw).read(limit + 1)
        # read(limit + 1) allocates limit + 1 bytes first: 4x the cost of reading a 30 kB page
        expected = min(os.fstat(raw.fileno()).st_size, limit) + 1
        data = raw.read(expected)
        if len(data) == expected <= limit:  # the file grew since fstat: the rest, up to the limit
            data += raw.read(limit + 1 - expected)
        return data


def iter_raw_inputs(
    raw_root: Path, cfg: LoadConfig, unchanged: Callable[[str, tuple[int, int]], bool] | None = None
) -> Iterator[RawInput | Skipped | UnchangedFile]:
    """Yield one RawInput per page file or WARC response record; unreadable files as Skipped; and,
    when `unchanged(source, (size, mtime_ns))` says a plain file is as it was, an UnchangedFile
    instead of reading it (WARC files are always read: their records supersede each other)."""
    for source in list_relative(raw_root):
        path = raw_root / source
        site = source.split("/", 1)[0] if "/" in source else DEFAULT_SITE
        kind = _kind_of(path.name, cfg)
        if kind is None:
            yield Skipped(site, source, "unsupported_type", f"suffix {path.suffix or '(none)'} is not read")
            continue
        if kind == "warc":
            yield from warc.iter_warc_inputs(path, source, site, cfg)
            continue
        try:
            st = path.stat()
            stat = (st.st_size, st.st_mtime_ns)
        except OSError as exc:
            yield Skipped(site, source, "unreadable", f"{type(exc).__name__}: {exc}")
            continue
        if unchanged is not None and unchanged(source, stat):
            yield UnchangedFile(site, source)
            continue
        yield _read_input(path, source, site, kind, stat, cfg)


def _read_input(
    path: Path, source: str, site: str, kind: str, stat: tuple[int, int], cfg: LoadConfig
) -> RawInput | Skipped:
    try:
        data = _read_limited(path, cfg.max_page_bytes)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return Skipped(site, source, "unreadable", f"{type(exc).__name__}: {exc}")
    if len(data) > cfg.max_page_bytes:
        return Skipped(site, source, "too_large", f"over {cfg.max_page_bytes} bytes")
    return RawInput(site_hint=site, source=source, data=data, kind=kind, file_stat=stat)


def read_file_input(raw_root: Path, source: str, cfg: LoadConfig) -> RawInput | Skipped:
    """One plain page file again (a re-run that must parse an unchanged file after all)."""
    path = raw_root / source
    site = source.split("/", 1)[0] if "/" in source else DEFAULT_SITE
    kind = _kind_of(path.name, cfg)
    try:
        st = path.stat()
    except OSError as exc:
        return Skipped(site, source, "unreadable", f"{type(exc).__name__}: {exc}")
    if kind not in ("html", "text"):
        return Skipped(site, source, "unsupported_type", f"suffix {path.suffix or '(none)'} is not read")
    return _read_input(path, source, site, kind, (st.st_size, st.st_mtime_ns), cfg)


def gunzip_limited(data: bytes, limit: int) -> bytes:
    return gzip.GzipFile(fileobj=io.BytesIO(data)).read(limit + 1)


def _warc_location(raw: RawInput) -> tuple[str, int] | None:
    """(WARC file, record offset) of a crawled record, from its source "file.warc.gz#offset"."""
    if raw.record_date is None or "#" not in raw.source:
        return None
    path, _, offset = raw.source.rpartition("#")
    return (path, int(offset)) if offset.isdigit() else None


def unload(raw: RawInput) -> RawInput:
    """The input without its bytes (read again to parse it: a plain file, or a WARC record at its
    offset), so a folder of 100,000 pages or crawl records is listed and hashed without holding them."""
    if raw.file_stat == (0, 0) and _warc_location(raw) is None:
        return raw  # bytes from nowhere to read them again
    return replace(raw, data=b"", unloaded=True)


def load(raw_root: Path, raw: RawInput, cfg: LoadConfig) -> RawInput | Skipped:
    """An unloaded input with its bytes again (as they are now on disk), else the input itself."""
    if not raw.unloaded:
        return raw
    if (where := _warc_location(raw)) is not None:
        try:
            data = warc.read_record(raw_root / where[0], where[1], cfg)
        except OSError as exc:
            return Skipped(raw.site_hint, raw.source, "unreadable", f"{type(exc).__name__}: {exc}")
        return replace(raw, data=data, unloaded=False)
    again = read_file_input(raw_root, raw.source, cfg)
    return again if isinstance(again, Skipped) else replace(again, in_sample=raw.in_sample)
