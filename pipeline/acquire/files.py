"""Walk a raw folder (raw/<site>/**) and yield RawInput records or Skipped ones. Touches disk only."""
from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

from pipeline.acquire import warc
from pipeline.config import LoadConfig
from pipeline.records import RawInput, Skipped

DEFAULT_SITE = "_root"  # site for files lying directly in the raw root


def site_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else DEFAULT_SITE


def list_files(raw_root: Path) -> list[Path]:
    """Every regular, non-hidden file below raw_root, sorted so that runs are reproducible."""
    out = []
    for p in raw_root.rglob("*"):
        rel = p.relative_to(raw_root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and not p.is_symlink():
            out.append(p)
    return sorted(out, key=lambda p: p.relative_to(raw_root).as_posix())


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
        stream = gzip.GzipFile(fileobj=raw) if path.name.lower().endswith(".gz") else raw
        return stream.read(limit + 1)


def iter_raw_inputs(raw_root: Path, cfg: LoadConfig) -> Iterator[RawInput | Skipped]:
    """Yield one RawInput per page file or WARC response record; unreadable files as Skipped."""
    for path in list_files(raw_root):
        rel = path.relative_to(raw_root)
        site = site_of(rel)
        source = rel.as_posix()
        kind = _kind_of(path.name, cfg)
        if kind is None:
            yield Skipped(site, source, "unsupported_type", f"suffix {path.suffix or '(none)'} is not read")
            continue
        if kind == "warc":
            yield from warc.iter_warc_inputs(path, source, site, cfg)
            continue
        try:
            data = _read_limited(path, cfg.max_page_bytes)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            yield Skipped(site, source, "unreadable", f"{type(exc).__name__}: {exc}")
            continue
        if len(data) > cfg.max_page_bytes:
            yield Skipped(site, source, "too_large", f"over {cfg.max_page_bytes} bytes")
            continue
        yield RawInput(site_hint=site, source=source, data=data, kind=kind)


def gunzip_limited(data: bytes, limit: int) -> bytes:
    return gzip.GzipFile(fileobj=io.BytesIO(data)).read(limit + 1)
