"""Every Arrow schema of sitesift in one place: the output datasets (documented field by field, the
source of docs/schema.md), the crawl log, and the run state that re-runs read back. Nothing here
does work; readers and writers in store/ and the run cast to these."""

from __future__ import annotations

from dataclasses import fields

import pyarrow as pa

from pipeline.records import PageMeta

SCHEMA_VERSION = "2"  # bump on any change to an output schema; see docs/schema.md


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
            "A plain file's folder under the raw root; a crawled record's host (with a non-default "
            "port; a web-archive capture's original host).",
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
            "Where `published` came from: json-ld, meta, time, text, url, htmldate or site-model (the "
            "site's date model: where htmldate found the date on the site's sampled pages).",
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
            "date_decision",
            pa.string(),
            "What decided the dates of a page without a published date of its own (structured, "
            "date line or URL): `htmldate:sampled` (htmldate at parse, on the layout sample), "
            "`site-model` (the site's date model), `htmldate:no-site-model` or `htmldate:not-covered` "
            "(htmldate at site build: the sample taught no date source, or the page has none of "
            "the learned ones), `htmldate:unreadable` (the page could not be read again); null: "
            "the page's own dates decided.",
            "site-model",
        ),
        _f(
            "author",
            pa.string(),
            "The page's author(s), several joined by `; `: JSON-LD author of the page's content, else "
            "<meta> author, article:author and the like, else trafilatura's byline (pages it ran on).",
            "Jane Doe; John Roe",
        ),
        _f(
            "author_source", pa.string(), "Where `author` came from: json-ld, meta or trafilatura.", "json-ld"
        ),
        _f(
            "description",
            pa.string(),
            "The page's summary: <meta> description, og:description, twitter:description, else JSON-LD "
            "description, else trafilatura's.",
            "How git bisect finds the commit that broke a build.",
        ),
        _f(
            "description_source",
            pa.string(),
            "Where `description` came from: meta, json-ld or trafilatura.",
            "meta",
        ),
        _f(
            "sitename",
            pa.string(),
            "The site's own name: og:site_name, else JSON-LD publisher or WebSite name, else "
            "application-name, else trafilatura's (never made from the URL's host).",
            "NAHT",
        ),
        _f(
            "sitename_source",
            pa.string(),
            "Where `sitename` came from: meta, json-ld or trafilatura.",
            "meta",
        ),
        _f(
            "tags",
            pa.list_(pa.string()),
            "Tags and categories in page order, each once: article:section and article:tag, else JSON-LD "
            "articleSection and keywords, else <meta> keywords, else trafilatura's categories and tags.",
            "['Git', 'Tools']",
        ),
        _f("tags_source", pa.string(), "Where `tags` came from: meta, json-ld or trafilatura.", "meta"),
        _f(
            "language",
            pa.string(),
            "Language of the page (ISO 639-1, lower case): the declared one (<html lang>, else JSON-LD "
            "inLanguage, else <meta> content-language or og:locale) unless py3langid, on `text`, is "
            "confident of another it finds the declared one implausible for; detected alone when none "
            "is declared (plain text).",
            "en",
        ),
        _f(
            "language_source",
            pa.string(),
            "Where `language` came from: html-lang, json-ld, meta or langid (detected on `text`).",
            "html-lang",
        ),
        _f(
            "image",
            pa.string(),
            "The page's lead image URL (absolute when the page URL is known): og:image, twitter:image, "
            "else JSON-LD image, else <link rel=image_src>, else trafilatura's.",
            "https://rilopez.com/images/bisect.png",
        ),
        _f("image_source", pa.string(), "Where `image` came from: meta, json-ld or trafilatura.", "meta"),
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
        _f(
            "run_id",
            pa.string(),
            "The run that last wrote this row (a row carried over unchanged keeps the run that wrote it); "
            "joins changes.run_id.",
            "20261201T221000123456Z-a1b2c3",
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
            "Main content: kept by trafilatura on pages of the site's layout sample, by the layout "
            "model learned from them on the other pages of a large site (always true for plain text); "
            "when all they kept is boilerplate, every block that is not.",
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

CHANGES_SCHEMA = pa.schema(
    [
        _f(
            "run_id",
            pa.string(),
            "The run that saw the change.",
            "20261201T221000123456Z-a1b2c3",
            nullable=False,
        ),
        _f(
            "changed_at",
            pa.timestamp("us", tz="UTC"),
            "When that run started.",
            "2026-12-01 22:10:00+00:00",
            nullable=False,
        ),
        _f("doc_id", pa.string(), "The page (documents.doc_id).", "a7db281b6e3311c5", nullable=False),
        _f("site", pa.string(), "The page's site.", "naht", nullable=False),
        _f("url", pa.string(), "The page URL, when known.", "https://rilopez.com/posts/git-bisect/"),
        _f(
            "source",
            pa.string(),
            "Where the page came from (documents.source).",
            "naht/000_0a11.txt",
            nullable=False,
        ),
        _f(
            "change",
            pa.string(),
            "new, changed (its raw bytes changed), removed, or unchanged-but-rewritten "
            "(same bytes, but the run wrote its row again: its site was re-learned or its duplicate columns "
            "moved).",
            "new",
            nullable=False,
        ),
        _f(
            "previous_content_hash",
            pa.string(),
            "documents.content_hash before the run; null for new pages.",
            "9f2c...",
        ),
        _f(
            "content_hash",
            pa.string(),
            "documents.content_hash after the run; null for removed pages.",
            "9f2c...",
        ),
    ]
)

DATASETS: dict[str, pa.Schema] = {
    "documents": DOCUMENTS_SCHEMA,
    "blocks": BLOCKS_SCHEMA,
    "boilerplate": BOILERPLATE_SCHEMA,
    "skipped": SKIPPED_SCHEMA,
    "changes": CHANGES_SCHEMA,
}


# -- crawl log ---------------------------------------------------------------------------------
CRAWL_LOG_SCHEMA = pa.schema(
    [
        _f("crawl_id", pa.string(), "Id of the crawl run.", "20261123T150000Z-ab12cd", nullable=False),
        _f("host", pa.string(), "host[:port] crawled.", "127.0.0.1:8123", nullable=False),
        _f("url", pa.string(), "URL as queued (normalised).", "http://127.0.0.1:8123/a", nullable=False),
        _f("final_url", pa.string(), "URL after redirects.", "http://127.0.0.1:8123/b"),
        _f("status", pa.int32(), "Last HTTP status received.", "200"),
        _f(
            "outcome",
            pa.string(),
            "stored, unchanged (304), skipped, failed, refused, disallowed or discovery.",
            "stored",
            nullable=False,
        ),
        _f(
            "reason",
            pa.string(),
            "Short code for a non-stored outcome: http_404, timeout, too_large, ...",
            "http_404",
        ),
        _f(
            "fetched_at",
            pa.timestamp("us", tz="UTC"),
            "When the fetch ended.",
            "2026-11-23 15:00:01+00:00",
            nullable=False,
        ),
        _f("bytes", pa.int64(), "Decoded body bytes stored.", "5120", nullable=False),
        _f("content_type", pa.string(), "Response media type.", "text/html"),
        _f("etag", pa.string(), "ETag, sent back as If-None-Match next time.", '"abc"'),
        _f(
            "last_modified",
            pa.string(),
            "Last-Modified, sent back as If-Modified-Since.",
            "Mon, 23 Nov 2026 10:00:00 GMT",
        ),
        _f("duration", pa.float64(), "Seconds spent, retries included.", "0.12", nullable=False),
        _f("retries", pa.int32(), "Retries needed.", "2", nullable=False),
        _f("error", pa.string(), "Error message, if any.", "HTTP 404"),
        _f("redirect_chain", pa.list_(pa.string()), "URLs redirected through, in order.", "['http://h/a']"),
        _f("depth", pa.int32(), "Link hops from a seed.", "1", nullable=False),
        _f(
            "warc_file",
            pa.string(),
            "WARC file (under raw/<host>/) holding the response.",
            "crawl-...-00000.warc.gz",
        ),
    ]
)


# -- run state (see store/state_layout.py for where each file lives) ------------------------------
PAGE_META_STATE = pa.struct(  # records.PageMeta, field for field
    [(f.name, pa.list_(pa.string()) if f.name == "tags" else pa.string()) for f in fields(PageMeta)]
)
PAGES_STATE = pa.schema(
    [
        ("doc_id", pa.string()),
        ("site_hint", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("url", pa.string()),
        ("chars_raw", pa.int64()),
        ("content_hash", pa.string()),
        ("site", pa.string()),
        ("html_title", pa.string()),
        ("og_title", pa.string()),
        ("extractor", pa.string()),
        (
            "date_candidates",
            pa.list_(pa.struct([("date", pa.date32()), ("role", pa.string()), ("source", pa.string())])),
        ),
        ("skip_reason", pa.string()),
        ("skip_detail", pa.string()),
        ("file_size", pa.int64()),
        ("file_mtime_ns", pa.int64()),
        ("in_sample", pa.bool_()),
        ("meta", PAGE_META_STATE),
        ("extractor_meta", PAGE_META_STATE),
        ("htmldate", pa.string()),  # asked | deferred | null (records.ParsedPage.htmldate)
        ("date_hints", pa.list_(pa.struct([("key", pa.string()), ("date", pa.date32())]))),
    ]
)
BLOCKS_STATE = pa.schema(
    [
        ("doc_id", pa.string()),
        ("position", pa.int32()),
        ("kind", pa.string()),
        ("text", pa.large_string()),
        ("tag_path", pa.string()),
        ("tag", pa.string()),
        ("in_main", pa.bool_()),
        ("is_dateline", pa.bool_()),
        ("layout_path", pa.string()),
    ]
)
CLUSTERS_STATE = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("text", pa.large_string()),
        ("tag_path", pa.string()),
        ("n_pages", pa.int32()),
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)
TEXTS_STATE = pa.schema([("text", pa.large_string()), ("signature", pa.binary()), ("key", pa.large_string())])
STATS_STATE = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("n_pages", pa.int32()),
        ("dateline", pa.bool_()),
        ("tag_path", pa.string()),
        ("variants", pa.list_(pa.struct([("text", pa.large_string()), ("count", pa.int64())]))),
        ("norms", pa.list_(pa.large_string())),
        ("key", pa.large_string()),
    ]
)
DOC_INDEX_STATE = pa.schema([("doc_id", pa.string()), ("text_hash", pa.string()), ("signature", pa.binary())])
LAYOUT_STATE = pa.schema(
    [
        ("prefix", pa.string()),
        ("main_chars", pa.int64()),
        ("other_chars", pa.int64()),
        ("blocks", pa.int64()),
        ("applied", pa.bool_()),  # the full layout path of a block the model decided (re-runs check these)
    ]
)
