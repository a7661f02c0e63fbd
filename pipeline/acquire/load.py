"""RawInput -> Page: size, binary and encoding checks, stable ids and content hashes. Pure."""

from __future__ import annotations

import hashlib

from pipeline.acquire.decode import UndecodableError, decode_bytes, looks_binary, normalise_text
from pipeline.records import Page, RawInput, Skipped


def content_hash(data: bytes) -> str:
    """Identity of a page's raw bytes (what decides whether a re-run parses it again)."""
    return hashlib.sha256(data).hexdigest()[:32]


def stub_page(raw: RawInput) -> Page:
    """The Page record of an input that never decoded or parsed: enough to remember it by hash."""
    return Page(
        make_doc_id(raw.site_hint, raw.identity),
        raw.site_hint,
        raw.source,
        raw.kind,
        "",
        raw.url,
        0,
        content_hash(raw.data),
        raw.file_stat,
    )


def make_doc_id(site_hint: str, source: str) -> str:
    """Stable id from where the page came from (not from its content, which may change)."""
    return hashlib.sha1(f"{site_hint}\x00{source}".encode()).hexdigest()[:16]


def to_page(raw: RawInput) -> Page | Skipped:
    if not raw.data.strip():
        return Skipped(raw.site_hint, raw.source, "empty", "no bytes or only whitespace")
    if looks_binary(raw.data):
        return Skipped(raw.site_hint, raw.source, "binary", "NUL or control bytes: not a text page")
    try:
        text, _encoding = decode_bytes(raw.data, raw.declared_charset)
    except UndecodableError as exc:
        return Skipped(raw.site_hint, raw.source, "undecodable", str(exc))
    content = normalise_text(text)
    if not content.strip():
        return Skipped(raw.site_hint, raw.source, "empty", "no text after decoding")
    return Page(
        doc_id=make_doc_id(raw.site_hint, raw.identity),
        site_hint=raw.site_hint,
        source=raw.source,
        kind=raw.kind,
        content=content,
        url=raw.url,
        chars_raw=len(content),
        content_hash=content_hash(raw.data),
        file_stat=raw.file_stat,
    )
