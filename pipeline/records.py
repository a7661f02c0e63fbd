"""Typed records that move between stages, and the explicit pyarrow schemas that mirror the outputs.

Nothing here does work: a stage takes one record type and returns the next.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa

SCHEMA_VERSION = "1"  # bump on any change to an output schema; see docs/schema.md


@dataclass(frozen=True)
class RawInput:
    """Bytes of one page as found on disk or in a WARC record, before decoding."""

    site_hint: str            # first folder under the raw root
    source: str               # path relative to the raw root, or "file.warc.gz#offset"
    data: bytes
    kind: str                 # "html" or "text"
    url: str | None = None
    declared_charset: str | None = None  # from an HTTP Content-Type header, when known


@dataclass(frozen=True)
class Skipped:
    """An input that could not be processed, and why (every drop has a reason)."""

    site: str
    source: str
    reason: str               # short code: empty, binary, too_large, undecodable, unparseable, ...
    detail: str = ""


@dataclass(frozen=True)
class Page:
    """One decoded page: text is Unicode with CRLF and non-breaking spaces normalised."""

    doc_id: str
    site_hint: str
    source: str
    kind: str
    content: str
    url: str | None
    chars_raw: int
    content_hash: str


@dataclass
class Block:
    """One ordered unit of a page: heading, paragraph, list item, code or table row."""

    position: int
    kind: str                 # heading | paragraph | list_item | code | table_row
    text: str
    tag_path: str = ""        # e.g. "html/body/main/article/p"; "" for plain text
    tag: str = ""             # the block element's own tag (h1, p, li, ...)
    in_main: bool = True      # kept by the main-content extractor (always True for plain text)
    is_dateline: bool = False  # a "Published ... / Updated ..." line: metadata, not text
    is_boilerplate: bool = False
    cluster_id: str | None = None
    removed_by: str | None = None  # None (kept) | boilerplate | extractor | dateline | title | repeat


@dataclass(frozen=True)
class DateCandidate:
    date: dt.date
    role: str                 # "published" or "updated"
    source: str               # json-ld | meta | time | text | url | htmldate


@dataclass
class ParsedPage:
    """A page segmented into blocks, with the metadata needed for titles and dates."""

    page: Page
    site: str
    blocks: list[Block]
    html_title: str | None = None
    og_title: str | None = None
    date_candidates: list[DateCandidate] = field(default_factory=list)
    extractor: str = "none"   # trafilatura | fallback-full-page | none (plain text)


@dataclass
class Document:
    """The clean row of one page."""

    doc_id: str
    site: str
    url: str | None
    source: str
    title: str | None
    published: dt.date | None
    published_source: str | None
    updated: dt.date | None
    updated_source: str | None
    text: str
    n_blocks: int
    n_boilerplate_blocks: int
    chars_raw: int
    chars_clean: int
    content_hash: str
    dup_cluster: str | None = None
    duplicate_of: str | None = None


DOCUMENTS_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("site", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("published", pa.date32()),
        pa.field("published_source", pa.string()),
        pa.field("updated", pa.date32()),
        pa.field("updated_source", pa.string()),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("n_blocks", pa.int32(), nullable=False),
        pa.field("n_boilerplate_blocks", pa.int32(), nullable=False),
        pa.field("chars_raw", pa.int64(), nullable=False),
        pa.field("chars_clean", pa.int64(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("dup_cluster", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field("processed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("pipeline_version", pa.string(), nullable=False),
    ]
)

BLOCKS_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("site", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("tag_path", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("in_main", pa.bool_(), nullable=False),
        pa.field("is_boilerplate", pa.bool_(), nullable=False),
        pa.field("cluster_id", pa.string()),
        pa.field("removed_by", pa.string()),
    ]
)

BOILERPLATE_SCHEMA = pa.schema(
    [
        pa.field("site", pa.string(), nullable=False),
        pa.field("cluster_id", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("tag_path", pa.string(), nullable=False),
        pa.field("n_pages", pa.int32(), nullable=False),
        pa.field("share_of_pages", pa.float64(), nullable=False),
        pa.field("n_variants", pa.int32(), nullable=False),
    ]
)

SKIPPED_SCHEMA = pa.schema(
    [
        pa.field("site", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)

DATASETS: dict[str, pa.Schema] = {
    "documents": DOCUMENTS_SCHEMA,
    "blocks": BLOCKS_SCHEMA,
    "boilerplate": BOILERPLATE_SCHEMA,
    "skipped": SKIPPED_SCHEMA,
}
