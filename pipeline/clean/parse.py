"""Page -> ParsedPage: segment into blocks, find main content and metadata, flag date lines. Pure (CPU)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from pipeline.clean.dates import dateline_dates, url_date
from pipeline.clean.html_meta import extract_html_meta, htmldate_guess
from pipeline.clean.main_content import mark_main, run_trafilatura
from pipeline.clean.page_meta import extractor_meta, needs_extractor_meta, read_page_meta
from pipeline.clean.segment_html import UnparseableHtml, parse_html, parse_tree, segment_html
from pipeline.clean.segment_text import segment_text
from pipeline.clean.site_dates import date_hints
from pipeline.config import ExtractConfig
from pipeline.records import HTMLDATE_ASKED, HTMLDATE_DEFERRED, Page, ParsedPage, Skipped


@functools.lru_cache(maxsize=1 << 16)
def _is_dateline(text: str) -> bool:
    """Memoised per worker: a site's template lines come back on every page."""
    return bool(dateline_dates(text))


def _flag_datelines(parsed: ParsedPage) -> None:
    for b in parsed.blocks:
        if _is_dateline(b.text):
            b.is_dateline = True


def _extract(parsed: ParsedPage, content: str, url: str | None, cfg: ExtractConfig) -> str:
    """Mark main-content blocks with trafilatura; returns the extractor label of the page."""
    if not cfg.use_trafilatura:
        return "fallback-full-page"
    if not parsed.in_sample:
        return "segmented"  # the site's layout model decides, at build time
    # its metadata pass only when it can add to the page's own (page_meta.reconcile)
    extraction = run_trafilatura(content, url, cfg.extractor_metadata and needs_extractor_meta(parsed.meta))
    if extraction is None:
        return "fallback-full-page"
    mark_main(parsed.blocks, extraction)
    if extraction.document is not None:
        parsed.extractor_meta = extractor_meta(extraction.document, url)
    return "trafilatura"


SiteOf = Callable[[str | None], str | None]  # a page URL -> its site, when the URL names one


def parse_page(page: Page, cfg: ExtractConfig, in_sample: bool, site_of: SiteOf) -> ParsedPage | Skipped:
    """Segment and read metadata; run trafilatura only on pages of the layout sample (the others get
    their main content from the site's layout model when the site is built)."""
    if page.kind == "text":
        parsed = ParsedPage(
            page=page, site=site_of(page.url) or page.site_hint, blocks=segment_text(page.content)
        )
    else:
        try:
            # htmldate takes only lxml.html's tree, and only a sampled page may ask it here
            root = parse_html(page.content) if in_sample else parse_tree(page.content)
            blocks = segment_html(root)
        except UnparseableHtml as exc:
            return Skipped(page.site_hint, page.source, "unparseable", str(exc))
        meta = extract_html_meta(root)
        url = page.url or meta.url
        parsed = ParsedPage(
            page=page,
            site=site_of(url) or page.site_hint,
            blocks=blocks,
            html_title=meta.title,
            og_title=meta.og_title,
            date_candidates=list(meta.dates),
            meta=read_page_meta(root, url, meta.jsonld),
        )
        if page.url is None and meta.url:
            parsed.page = Page(**{**page.__dict__, "url": meta.url})
        parsed.in_sample = in_sample
        parsed.extractor = _extract(parsed, page.content, url, cfg)
    if not parsed.blocks:
        return Skipped(parsed.site, page.source, "no_text", "no block with words in it")
    ud = url_date(parsed.page.url)
    if ud:
        parsed.date_candidates.append(ud)
    _flag_datelines(parsed)
    if page.kind != "text" and not any(c.role == "published" for c in parsed.date_candidates):
        # htmldate, the last resort: on the layout sample only; the site's date model, learned from
        # the sample's answers and these hints, decides the other pages (clean/site_dates.py)
        parsed.date_hints = date_hints(parsed.blocks)
        if in_sample:
            parsed.htmldate = HTMLDATE_ASKED
            guess = htmldate_guess(root, parsed.page.url)
            if guess:
                parsed.date_candidates.append(guess)
        else:
            parsed.htmldate = HTMLDATE_DEFERRED
    return parsed
