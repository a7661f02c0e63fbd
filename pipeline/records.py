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

    site_hint: str  # first folder under the raw root
    source: str  # path relative to the raw root, or "file.warc.gz#offset"
    data: bytes
    kind: str  # "html" or "text"
    url: str | None = None
    declared_charset: str | None = None  # from an HTTP Content-Type header, when known
    record_date: str | None = None  # WARC-Date of a crawled page: the newest record of a URL wins
    file_stat: tuple[int, int] = (0, 0)  # (size, mtime_ns) of a plain file: lets re-runs skip reading it
    in_sample: bool = True  # run the main-content extractor on it (acquire/sample.py decides)
    unloaded: bool = False  # a plain file's bytes dropped after hashing; read again to parse (files.load)

    @property
    def identity(self) -> str:
        """What makes two inputs the same page: the URL for crawled records, else the file path."""
        return self.url if self.record_date is not None and self.url else self.source


@dataclass(frozen=True)
class Skipped:
    """An input that could not be processed, and why (every drop has a reason)."""

    site: str
    source: str
    reason: str  # short code: empty, binary, too_large, undecodable, unparseable, ...
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
    file_stat: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class UnchangedFile:
    """A plain file whose size and modification time match the last run: not read again."""

    site_hint: str
    source: str


@dataclass(slots=True)
class Block:
    """One ordered unit of a page: heading, paragraph, list item, code or table row. Slotted: a large
    site holds millions of them."""

    position: int
    kind: str  # heading | paragraph | list_item | code | table_row
    text: str
    tag_path: str = ""  # e.g. "html/body/main/article/p"; "" for plain text
    tag: str = ""  # the block element's own tag (h1, p, li, ...)
    layout_path: str = ""  # tag_path with up to 3 classes per step ("div.post/p"): the layout model's key
    in_main: bool = (
        True  # main content: trafilatura's, or the site layout model's (always True for plain text)
    )
    is_dateline: bool = False  # a "Published ... / Updated ..." line: metadata, not text
    is_boilerplate: bool = False
    cluster_id: str | None = None
    removed_by: str | None = None  # None (kept) | boilerplate | extractor | dateline | title | repeat


@dataclass(frozen=True)
class DateCandidate:
    date: dt.date
    role: str  # "published" or "updated"
    source: str  # json-ld | meta | time | text | url | htmldate


@dataclass
class ParsedPage:
    """A page segmented into blocks, with the metadata needed for titles and dates."""

    page: Page
    site: str
    blocks: list[Block]
    html_title: str | None = None
    og_title: str | None = None
    date_candidates: list[DateCandidate] = field(default_factory=list)
    extractor: str = (
        "none"  # trafilatura | fallback-full-page | segmented (not sampled) | layout | none (text)
    )
    in_sample: bool = True  # in its site's layout sample: trafilatura runs on it (see clean/layout.py)


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


def documented_field(
    name: str, type_: pa.DataType, description: str, example: str, nullable: bool = True
) -> pa.Field:
    """A schema field that carries its own documentation (docs/schema.md is generated from it)."""
    return pa.field(name, type_, nullable=nullable, metadata={"description": description, "example": example})


_f = documented_field


DOCUMENTS_SCHEMA = pa.schema(
    [
        _f(
            "doc_id",
            pa.string(),
            "Stable page id: hash of the site folder and source path (or WARC file and offset).",
            "a7db281b6e3311c5",
            nullable=False,
        ),
        _f(
            "site",
            pa.string(),
            "Host of the page URL when known (WARC target URI, canonical or og:url), else the "
            "first folder under the raw root.",
            "naht",
            nullable=False,
        ),
        _f(
            "url",
            pa.string(),
            "Page URL (WARC target URI, canonical link or og:url); null for plain files without one.",
            "https://rilopez.com/posts/git-bisect/",
        ),
        _f(
            "source",
            pa.string(),
            "Where the page came from: path relative to the raw root, or `file.warc.gz#offset`.",
            "naht/000_0a110b620bc841eb.txt",
            nullable=False,
        ),
        _f(
            "title",
            pa.string(),
            "The page's own title: first non-boilerplate h1, else <title>/og:title without the "
            "site-name affix, else the first non-boilerplate heading.",
            "Git Bisect",
        ),
        _f("published", pa.date32(), "Publication date.", "2025-12-18"),
        _f(
            "published_source",
            pa.string(),
            "Where `published` came from: json-ld, meta, time, text, url or htmldate.",
            "text",
        ),
        _f("updated", pa.date32(), "Last update date, later than `published`.", "2020-09-15"),
        _f(
            "updated_source",
            pa.string(),
            "Where `updated` came from (same values as published_source).",
            "text",
        ),
        _f(
            "text",
            pa.large_string(),
            "Clean article text: blocks that are not boilerplate, extractor clutter, date "
            "lines or the title; paragraphs separated by blank lines.",
            "The Department for Education (DfE) had planned...",
            nullable=False,
        ),
        _f("n_blocks", pa.int32(), "Number of blocks the page was segmented into.", "28", nullable=False),
        _f(
            "n_boilerplate_blocks", pa.int32(), "How many of them are site boilerplate.", "21", nullable=False
        ),
        _f(
            "chars_raw",
            pa.int64(),
            "Characters of the decoded page (HTML source or plain text).",
            "3649",
            nullable=False,
        ),
        _f("chars_clean", pa.int64(), "Characters of `text`.", "1510", nullable=False),
        _f(
            "content_hash",
            pa.string(),
            "SHA-256 (first 32 hex digits) of the raw bytes.",
            "9f2c...",
            nullable=False,
        ),
        _f(
            "dup_cluster",
            pa.string(),
            "For pages with near-duplicates (MinHash over clean text): the doc_id of the "
            "cluster's canonical page; null otherwise.",
            "a7db281b6e3311c5",
        ),
        _f(
            "duplicate_of",
            pa.string(),
            "The canonical page's doc_id (earliest published, then shortest URL or path) "
            "for every duplicate but the canonical one itself; null otherwise.",
            "a7db281b6e3311c5",
        ),
        _f(
            "processed_at",
            pa.timestamp("us", tz="UTC"),
            "When the run that wrote this row started writing.",
            "2026-11-23 14:28:33+00:00",
            nullable=False,
        ),
        _f(
            "pipeline_version",
            pa.string(),
            "sitesift library version that wrote the row.",
            "0.1.0",
            nullable=False,
        ),
    ]
)

BLOCKS_SCHEMA = pa.schema(
    [
        _f("doc_id", pa.string(), "The page (documents.doc_id).", "a7db281b6e3311c5", nullable=False),
        _f("site", pa.string(), "The page's site.", "naht", nullable=False),
        _f("position", pa.int32(), "Order of the block in the page, from 0.", "0", nullable=False),
        _f(
            "kind",
            pa.string(),
            "heading, paragraph, list_item, code or table_row.",
            "heading",
            nullable=False,
        ),
        _f(
            "tag_path",
            pa.string(),
            "Element path of an HTML block (tag names); empty for plain text.",
            "html/body/main/article/p",
            nullable=False,
        ),
        _f("text", pa.large_string(), "The block's text.", "Home Menu", nullable=False),
        _f(
            "in_main",
            pa.bool_(),
            "Main content: kept by trafilatura on pages of the site's layout sample, by "
            "the layout model learned from them on the other pages of a large site (always true for plain text).",
            "true",
            nullable=False,
        ),
        _f(
            "is_boilerplate",
            pa.bool_(),
            "Its near-duplicate cluster is on enough of the site's pages to be template.",
            "true",
            nullable=False,
        ),
        _f(
            "cluster_id",
            pa.string(),
            "Near-duplicate cluster of the block within its site and region; joins boilerplate.cluster_id.",
            "c5f0e1d2c3b4a5968",
        ),
        _f(
            "removed_by",
            pa.string(),
            "Why the block is not in documents.text: boilerplate, extractor, dateline, title, "
            "repeat; null when kept.",
            "boilerplate",
        ),
    ]
)

BOILERPLATE_SCHEMA = pa.schema(
    [
        _f("site", pa.string(), "Site the cluster belongs to.", "naht", nullable=False),
        _f("cluster_id", pa.string(), "Cluster id (blocks.cluster_id).", "c5f0e1d2c3b4a5968", nullable=False),
        _f(
            "text", pa.large_string(), "Its most frequent variant.", "NAHT is campaigning to:", nullable=False
        ),
        _f(
            "tag_path",
            pa.string(),
            "Where in the page template it sits (empty for plain text).",
            "html/body/nav/ul/li",
            nullable=False,
        ),
        _f("n_pages", pa.int32(), "Distinct pages of the site it is on.", "5", nullable=False),
        _f(
            "share_of_pages", pa.float64(), "n_pages divided by the site's page count.", "1.0", nullable=False
        ),
        _f(
            "n_variants",
            pa.int32(),
            "Distinct normalised texts in the cluster (template drift).",
            "1",
            nullable=False,
        ),
    ]
)

SKIPPED_SCHEMA = pa.schema(
    [
        _f("site", pa.string(), "Site (or site folder) of the input.", "naht", nullable=False),
        _f(
            "source",
            pa.string(),
            "The input's path relative to the raw root, or WARC file and offset.",
            "bad/binary.html",
            nullable=False,
        ),
        _f(
            "reason",
            pa.string(),
            "empty, binary, too_large, undecodable, unreadable, unsupported_type, http_status, "
            "unparseable, no_text or parse_error.",
            "binary",
            nullable=False,
        ),
        _f(
            "detail",
            pa.string(),
            "Human-readable detail.",
            "NUL or control bytes: not a text page",
            nullable=False,
        ),
    ]
)

DATASETS: dict[str, pa.Schema] = {
    "documents": DOCUMENTS_SCHEMA,
    "blocks": BLOCKS_SCHEMA,
    "boilerplate": BOILERPLATE_SCHEMA,
    "skipped": SKIPPED_SCHEMA,
}
