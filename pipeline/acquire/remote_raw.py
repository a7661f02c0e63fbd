"""A raw root on object storage (any fsspec file system): listing with sizes and modification times,
page files read with the same byte limit as local ones, WARC files opened for ranged reads (a record
is read again by a seek to its offset, never the whole file). Touches the network (reads only)."""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

from pipeline.acquire.paths import rel_of, source_of
from pipeline.locations import Remote

# a ranged read fetches this much at a time: a crawl record is tens of kB, the default 5 MB is a waste
RANGE_BYTES = 1 << 18


def listing(root: Remote) -> list[tuple[str, int, int | None]]:
    """(source, size, mtime_ns or None when the store gives no time) of every object below root whose
    path has no hidden part (a name starting with a dot)."""
    fs, prefix = root.fs(), root.path.rstrip("/") + "/"
    out = []
    fs.invalidate_cache(root.path)  # listings are cached per process: a re-run must see new objects
    for name, info in sorted(fs.find(root.path, detail=True).items()):
        if info.get("type") != "file" or not name.startswith(prefix):
            continue
        rel = name[len(prefix) :]
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        out.append((source_of(rel), int(info.get("size") or 0), mtime_ns(info)))
    return out


def mtime_ns(info: dict) -> int | None:
    """The object's modification time as the stores spell it (S3 LastModified, GCS updated, mtime)."""
    for key in ("LastModified", "mtime", "updated", "last_modified"):
        value = info.get(key)
        if isinstance(value, dt.datetime):
            return int(value.timestamp() * 1e9)
        if isinstance(value, int | float):
            return int(value * 1e9)
        if isinstance(value, str):
            try:
                return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1e9)
            except ValueError:
                continue
    return None


def open_source(root: Remote, source: str) -> Any:
    """The object a source names, open for ranged reads (an fsspec file: read, seek, size)."""
    return root.fs().open(root.key(rel_of(source)), "rb", block_size=RANGE_BYTES)


def stat_of(root: Remote, source: str) -> tuple[int, int]:
    info = root.fs().info(root.key(rel_of(source)))
    return int(info.get("size") or 0), mtime_ns(info) or 0


def read_limited(root: Remote, source: str, limit: int) -> bytes:
    """At most limit+1 bytes of the object (gunzipped for .gz): no decompression bombs."""
    key = root.key(rel_of(source))
    if source.lower().endswith(".gz"):
        with root.fs().open(key, "rb", block_size=RANGE_BYTES) as fh:
            return gzip.GzipFile(fileobj=fh).read(limit + 1)
    return root.fs().cat_file(key, start=0, end=limit + 1)
