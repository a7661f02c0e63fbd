"""htmldate again, at site build, on the few unsampled pages whose site date model cannot decide their
date (clean/site_dates.py): each such page is read again from raw/, checked against the content
hash it was parsed with, and parsed for htmldate only. Touches disk (reads raw/)."""

from __future__ import annotations

from pipeline.acquire.files import load
from pipeline.acquire.load import content_hash, to_page
from pipeline.clean.html_meta import htmldate_guess
from pipeline.clean.segment_html import UnparseableHtml, parse_html
from pipeline.clean.site_dates import HtmldateFallback
from pipeline.config import LoadConfig
from pipeline.locations import Location
from pipeline.records import DateCandidate, ParsedPage, RawInput, Skipped
from pipeline.run.pages import PARSE_ERRORS


def _raw_of(p: ParsedPage) -> RawInput:
    """The page's input, unloaded (load reads it again): a WARC record by its "file#offset" source."""
    path, _, offset = p.page.source.rpartition("#")
    crawled = offset.isdigit() and path.endswith((".warc", ".warc.gz"))
    return RawInput(
        site_hint=p.page.site_hint,
        source=p.page.source,
        data=b"",
        kind=p.page.kind,
        url=p.page.url,
        record_date="" if crawled else None,
        unloaded=True,
    )


def htmldate_again(raw_root: Location | None, cfg: LoadConfig) -> HtmldateFallback:
    """The fallback of a site build; without a raw root (a build that cannot reach raw/), none: the
    pages are recorded as unreadable."""

    def run(pages: list[ParsedPage]) -> dict[str, DateCandidate | None]:
        out: dict[str, DateCandidate | None] = {}
        if raw_root is None:
            return out
        for p in pages:
            raw = load(raw_root, _raw_of(p), cfg)
            if isinstance(raw, Skipped) or content_hash(raw.data) != p.page.content_hash:
                continue  # gone or changed since it was parsed: the next run parses it again
            page = to_page(raw)
            if isinstance(page, Skipped):
                continue
            try:
                out[p.page.doc_id] = htmldate_guess(parse_html(page.content), p.page.url)
            except (UnparseableHtml, *PARSE_ERRORS):
                continue
        return out

    return run
