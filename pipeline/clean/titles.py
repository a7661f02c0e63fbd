"""Titles: the page's own first heading, else <title>/og:title without the site-name affix learned
from what is constant across the site's titles; never a boilerplate block. Pure."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.records import Block, ParsedPage

_SEP = re.compile(r"\s+[-|–—·:»/•~]\s+|\s+::\s+")


@dataclass(frozen=True)
class TitleAffixes:
    prefixes: frozenset[str]
    suffixes: frozenset[str]


def learn_affixes(titles: list[str], min_pages: int) -> TitleAffixes:
    """Site-name prefixes/suffixes: the first or last separator-delimited part shared by at least
    min_pages titles (and by at least a third of the titles that have a separator)."""
    pre: Counter[str] = Counter()
    suf: Counter[str] = Counter()
    with_sep = 0
    for t in titles:
        parts = _SEP.split(t)
        if len(parts) < 2:
            continue
        with_sep += 1
        pre[parts[0].strip().casefold()] += 1
        suf[parts[-1].strip().casefold()] += 1
    need = max(min_pages, (with_sep + 2) // 3)
    return TitleAffixes(
        prefixes=frozenset(k for k, v in pre.items() if v >= need and k),
        suffixes=frozenset(k for k, v in suf.items() if v >= need and k),
    )


def strip_affixes(title: str, affixes: TitleAffixes) -> str:
    seps = list(_SEP.finditer(title))
    if not seps:
        return title
    last, first = seps[-1], seps[0]
    if title[last.end() :].strip().casefold() in affixes.suffixes:
        title = title[: last.start()].strip()
        seps = list(_SEP.finditer(title))
        if not seps:
            return title
        first = seps[0]
    if title[: first.start()].strip().casefold() in affixes.prefixes:
        title = title[first.end() :].strip()
    return title


def _usable(b: Block, max_chars: int) -> bool:
    return not b.is_boilerplate and not b.is_dateline and len(b.text) <= max_chars


def choose_title(page: ParsedPage, affixes: TitleAffixes, max_chars: int) -> tuple[str | None, Block | None]:
    """(title, the block it came from or None). Order: first non-boilerplate h1; the cleaned <title> or
    og:title; the first non-boilerplate heading; for plain text, the first non-boilerplate block."""
    blocks = page.blocks
    for b in blocks:
        if b.tag == "h1" and _usable(b, max_chars):
            return b.text, b
    meta_title = page.og_title or page.html_title
    if page.html_title and page.og_title and len(page.html_title) > len(page.og_title):
        meta_title = page.og_title
    if meta_title:
        cleaned = strip_affixes(meta_title, affixes)
        if cleaned:
            block = next(
                (b for b in blocks if _usable(b, max_chars) and b.text.casefold() == cleaned.casefold()), None
            )
            return cleaned, block
    for b in blocks:
        if b.kind == "heading" and b.in_main and _usable(b, max_chars):
            return b.text, b
    if page.page.kind == "text":
        for b in blocks:
            if _usable(b, max_chars):
                return b.text, b
    return None, None
