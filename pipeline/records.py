"""Typed records that move between stages (their Arrow twins live in pipeline/schemas.py).

Nothing here does work: a stage takes one record type and returns the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


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
    # main content: trafilatura's, or the site layout model's (always True for plain text)
    in_main: bool = True
    is_dateline: bool = False  # a "Published ... / Updated ..." line: metadata, not text
    is_boilerplate: bool = False
    cluster_id: str | None = None
    removed_by: str | None = None  # None (kept) | boilerplate | extractor | dateline | title | repeat


@dataclass(frozen=True)
class DateCandidate:
    date: dt.date
    role: str  # "published" or "updated"
    source: str  # json-ld | meta | time | text | url | htmldate


@dataclass(frozen=True)
class PageMeta:
    """What a page says about itself beyond title and dates, each value with where it was read:
    json-ld, meta (a <meta> name or property), html-lang, or trafilatura (its metadata pass, on
    pages it ran on, for what the page's own metadata does not say). None: the page does not say."""

    author: str | None = None  # several authors joined by "; ", as trafilatura joins them
    author_source: str | None = None
    description: str | None = None
    description_source: str | None = None
    sitename: str | None = None
    sitename_source: str | None = None
    tags: tuple[str, ...] = ()  # tags and categories (sections), in page order, each once
    tags_source: str | None = None
    image: str | None = None  # absolute URL when the page URL is known
    image_source: str | None = None
    declared_language: str | None = None  # primary subtag, lower case ("en" of "en-US")
    declared_language_source: str | None = None


@dataclass
class ParsedPage:
    """A page segmented into blocks, with the metadata needed for titles and dates."""

    page: Page
    site: str
    blocks: list[Block]
    html_title: str | None = None
    og_title: str | None = None
    date_candidates: list[DateCandidate] = field(default_factory=list)
    # trafilatura | fallback-full-page | segmented (not sampled) | layout | none (text)
    extractor: str = "none"
    in_sample: bool = True  # in its site's layout sample: trafilatura runs on it (see clean/layout.py)
    meta: PageMeta = field(default_factory=PageMeta)  # what the page's own metadata says
    extractor_meta: PageMeta | None = None  # trafilatura's metadata, on the pages it ran on
    # a page without a structured or URL published date: htmldate asked at parse (HTMLDATE_ASKED, the
    # layout sample), or deferred to the site's date model (HTMLDATE_DEFERRED); None: not needed
    htmldate: str | None = None
    date_hints: list[tuple[str, dt.date]] = field(default_factory=list)  # clean/site_dates.date_hints


HTMLDATE_ASKED, HTMLDATE_DEFERRED = "asked", "deferred"


@dataclass(frozen=True)
class BoilerplateCluster:
    """A block cluster on enough of a site's pages to be template: one row of `boilerplate`."""

    cluster_id: str
    text: str  # the most frequent variant, as it appears on pages
    tag_path: str
    n_pages: int
    share_of_pages: float
    n_variants: int


@dataclass(frozen=True)
class DocumentMeta:
    """The page's author, description, site name, tags, language and image as documents carries them,
    each with its source (null when the page does not say)."""

    author: str | None = None
    author_source: str | None = None
    description: str | None = None
    description_source: str | None = None
    sitename: str | None = None
    sitename_source: str | None = None
    tags: list[str] | None = None
    tags_source: str | None = None
    language: str | None = None
    language_source: str | None = None  # html-lang, json-ld, meta or langid
    image: str | None = None
    image_source: str | None = None


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
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    date_decision: str | None = None  # clean/site_dates.py: what decided a page's dates without its own


@dataclass
class SiteSummary:
    """One site's figures in a run summary (and in the state, for sites a re-run does not rebuild)."""

    site: str
    pages: int = 0
    blocks: int = 0
    boilerplate_blocks: int = 0
    boilerplate_clusters: int = 0
    boilerplate_share: float = 0.0  # characters of boilerplate blocks / characters of all blocks
    with_title: int = 0
    with_published: int = 0
    with_updated: int = 0
    duplicate_pages: int = 0
    copies: int = 0  # pages the template rule counted as copies of another page (one article, several URLs)


@dataclass
class RunSummary:
    """What a run did, as the CLI prints it and the flow's artifact shows it."""

    inputs: int
    pages: int
    pages_new: int
    pages_changed: int
    pages_unchanged: int
    pages_removed: int
    parsed: int
    parsed_again: int
    sites_rebuilt: list[str]
    sites_appended: list[str]
    skipped: int
    skipped_by_reason: dict[str, int]
    duplicate_clusters: int
    duplicate_pages: int
    sites: list[SiteSummary]
    changes: dict[str, int] = field(default_factory=dict)  # pages by change (new, changed, removed, ...)
    run_id: str = ""


@dataclass
class CrawlLogRow:
    """One URL of a crawl as the crawl log records it (schemas.CRAWL_LOG_SCHEMA)."""

    crawl_id: str
    host: str
    url: str
    outcome: str
    depth: int = 0
    final_url: str | None = None
    status: int | None = None
    reason: str | None = None
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    bytes: int = 0
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration: float = 0.0
    retries: int = 0
    error: str | None = None
    redirect_chain: list[str] = field(default_factory=list)
    warc_file: str | None = None


@dataclass(frozen=True)
class KnownPage:
    """What the last crawl learned about a URL: validators for a conditional request, and its depth."""

    etag: str | None
    last_modified: str | None
    depth: int
    warc_file: str | None = None  # where its stored copy is (under raw/<host>/)
