"""Walk a raw folder (raw/<site>/**) and yield RawInput records or Skipped ones. Touches disk only."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from pipeline.acquire import remote_raw, warc
from pipeline.acquire.paths import NotRegularFile, open_regular, path_of, source_of, special_kind
from pipeline.config import LoadConfig
from pipeline.locations import Location, Remote
from pipeline.records import RawInput, Skipped, UnchangedFile

DEFAULT_SITE = "_root"  # site for files lying directly in the raw root
UNREADABLE_FOLDER = "unreadable_folder"  # skip reason of a sub-folder that cannot be listed


def _folder(source: str) -> str:
    """The raw folder a source lies in (the run works folder by folder)."""
    return source.split("/", 1)[0] if "/" in source else DEFAULT_SITE


def _listing(raw_root: Path) -> list[tuple[str, str, OSError | None]]:
    """(source, path relative to raw_root, None) for every non-hidden entry below raw_root that is
    neither a folder nor a symbolic link (nothing outside raw/ is read), and (source of the folder
    + "/", its path, the error) for every sub-folder that could not be listed. Sorted by raw folder,
    then source: the run takes the inputs of one folder at a time, so the files lying directly in
    the root (folder `_root`) must come together, not on both sides of a folder. Raises OSError when
    raw_root itself cannot be listed."""
    out: list[tuple[str, str, OSError | None]] = []
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(raw_root / rel_dir) as it:
                entries = list(it)
        except OSError as exc:
            if not rel_dir:
                raise
            out.append((source_of(rel_dir) + "/", rel_dir, exc))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(rel)
                    continue
            except OSError:
                pass  # listed as a file: reading it records why it cannot be read
            out.append((source_of(rel), rel, None))
    return sorted(out, key=lambda e: (_folder(e[0]), e[0]))


def list_relative(raw_root: Location) -> list[str]:
    """The source of every non-hidden file below raw_root, in the order a run reads them."""
    if isinstance(raw_root, Remote):
        return [source for source, _, _ in _remote_listing(raw_root)]
    return [source for source, _, error in _listing(raw_root) if error is None]


def _remote_listing(root: Remote) -> list[tuple[str, int, int | None]]:
    """remote_raw.listing in the order of _listing: by raw folder, then source."""
    return sorted(remote_raw.listing(root), key=lambda e: (_folder(e[0]), e[0]))


def unreadable_folders(items: list) -> tuple[str, ...]:
    """The sources ("folder/") of the folders among a run's inputs that could not be listed: the
    pages below them are neither read nor removed."""
    return tuple(i.source for i in items if isinstance(i, Skipped) and i.reason == UNREADABLE_FOLDER)


def _kind_of(source: str, cfg: LoadConfig) -> str | None:
    lower = source.rsplit("/", 1)[-1].lower()
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
    """Read a regular file (gunzipping .gz) but never more than limit+1 bytes: no decompression bombs.
    Raises NotRegularFile for a pipe, device or socket, without waiting on it."""
    with open_regular(path) as raw:
        if path.name.lower().endswith(".gz"):
            return gzip.GzipFile(fileobj=raw).read(limit + 1)
        # read(limit + 1) allocates limit + 1 bytes first: 4x the cost of reading a 30 kB page
        expected = min(os.fstat(raw.fileno()).st_size, limit) + 1
        data = raw.read(expected)
        if len(data) == expected <= limit:  # the file grew since fstat: the rest, up to the limit
            data += raw.read(limit + 1 - expected)
        return data


def iter_raw_inputs(
    raw_root: Location, cfg: LoadConfig, unchanged: Callable[[str, tuple[int, int]], bool] | None = None
) -> Iterator[RawInput | Skipped | UnchangedFile]:
    """Yield one RawInput per page file or WARC response record, raw folder by raw folder; inputs
    that cannot be used as Skipped (a sub-folder that cannot be listed too, reason
    `unreadable_folder`, source "folder/"); and, when `unchanged(source, (size, mtime_ns))` says a
    plain file is as it was, an UnchangedFile instead of reading it (WARC files are always read:
    their records supersede each other). Only regular files are ever opened."""
    if isinstance(raw_root, Remote):
        yield from _iter_remote_inputs(raw_root, cfg, unchanged)
        return
    for source, rel, error in _listing(raw_root):
        site = _folder(source)
        if error is not None:
            yield Skipped(site, source, UNREADABLE_FOLDER, _why(error))
            continue
        path = raw_root / rel
        kind = _kind_of(source, cfg)
        if kind is None:
            suffix = Path(source).suffix or "(none)"
            yield Skipped(site, source, "unsupported_type", f"suffix {suffix} is not read")
            continue
        try:
            st = os.lstat(path)
        except OSError as exc:
            yield Skipped(site, source, "unreadable", _why(exc))
            continue
        if (special := special_kind(st.st_mode)) is not None:
            yield Skipped(site, source, "special_file", f"{special}: not read")
            continue
        if kind == "warc":
            yield from warc.iter_warc_inputs(path, source, site, cfg)
            continue
        stat = (st.st_size, st.st_mtime_ns)
        if unchanged is not None and unchanged(source, stat):
            yield UnchangedFile(site, source)
            continue
        yield _read_input(partial(_read_limited, path, cfg.max_page_bytes), source, site, kind, stat, cfg)


def _iter_remote_inputs(
    root: Remote, cfg: LoadConfig, unchanged: Callable[[str, tuple[int, int]], bool] | None
) -> Iterator[RawInput | Skipped | UnchangedFile]:
    """iter_raw_inputs on object storage: no special files or unlistable folders there; an object
    whose store gives no modification time is always read."""
    for source, size, mtime in _remote_listing(root):
        site, kind = _folder(source), _kind_of(source, cfg)
        if kind is None:
            suffix = Path(source).suffix or "(none)"
            yield Skipped(site, source, "unsupported_type", f"suffix {suffix} is not read")
        elif kind == "warc":
            yield from _remote_warc(root, source, site, cfg)
        elif mtime is not None and unchanged is not None and unchanged(source, (size, mtime)):
            yield UnchangedFile(site, source)
        else:
            read = partial(remote_raw.read_limited, root, source, cfg.max_page_bytes)
            yield _read_input(read, source, site, kind, (size, mtime or 0), cfg)


def _remote_warc(root: Remote, source: str, site: str, cfg: LoadConfig) -> Iterator[RawInput | Skipped]:
    try:
        fh = remote_raw.open_source(root, source)
    except OSError as exc:
        yield Skipped(site, source, "unreadable", f"WARC: {_why(exc)}")
        return
    with fh:
        yield from warc.iter_warc_records(fh, lambda: fh.size, source, site, cfg)


def _why(exc: OSError) -> str:
    """An OSError in a skip row: its type and message, without the absolute path."""
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _read_input(
    read: Callable[[], bytes], source: str, site: str, kind: str, stat: tuple[int, int], cfg: LoadConfig
) -> RawInput | Skipped:
    try:
        data = read()
    except NotRegularFile as exc:
        return Skipped(site, source, "special_file", str(exc))
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return Skipped(site, source, "unreadable", f"{type(exc).__name__}: {exc}")
    if len(data) > cfg.max_page_bytes:
        return Skipped(site, source, "too_large", f"over {cfg.max_page_bytes} bytes")
    return RawInput(site_hint=site, source=source, data=data, kind=kind, file_stat=stat)


def read_file_input(raw_root: Location, source: str, cfg: LoadConfig) -> RawInput | Skipped:
    """One plain page file again (a re-run that must parse an unchanged file after all)."""
    site = _folder(source)
    kind = _kind_of(source, cfg)
    read: Callable[[], bytes]
    try:
        if isinstance(raw_root, Remote):
            stat = remote_raw.stat_of(raw_root, source)
            read = partial(remote_raw.read_limited, raw_root, source, cfg.max_page_bytes)
        else:
            path = path_of(raw_root, source)
            st = os.lstat(path)
            stat = (st.st_size, st.st_mtime_ns)
            read = partial(_read_limited, path, cfg.max_page_bytes)
    except OSError as exc:
        return Skipped(site, source, "unreadable", _why(exc))
    if kind not in ("html", "text"):
        suffix = Path(source).suffix or "(none)"
        return Skipped(site, source, "unsupported_type", f"suffix {suffix} is not read")
    return _read_input(read, source, site, kind, stat, cfg)


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


def load(raw_root: Location, raw: RawInput, cfg: LoadConfig) -> RawInput | Skipped:
    """An unloaded input with its bytes again (as they are now on disk), else the input itself."""
    if not raw.unloaded:
        return raw
    if (where := _warc_location(raw)) is not None:
        try:
            if isinstance(raw_root, Remote):
                with remote_raw.open_source(raw_root, where[0]) as fh:
                    data = warc.read_record_at(fh, where[1], cfg)
            else:
                data = warc.read_record(path_of(raw_root, where[0]), where[1], cfg)
        except OSError as exc:
            return Skipped(raw.site_hint, raw.source, "unreadable", f"{type(exc).__name__}: {exc}")
        return replace(raw, data=data, unloaded=False)
    again = read_file_input(raw_root, raw.source, cfg)
    return again if isinstance(again, Skipped) else replace(again, in_sample=raw.in_sample)
