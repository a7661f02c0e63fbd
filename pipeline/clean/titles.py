"""Titles: the page's own heading that agrees with its <title>/og:title, else its first h1, else the
<title>/og:title without the affixes constant across the site's titles and the site's name; never a
boilerplate block, a section name or the site's logo. Pure."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.records import Block, ParsedPage

_SEP = re.compile(r"\s+[-|–—·:»/•~]\s+|\s+::\s+")
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"\W+")
_PERMALINK = re.compile(r"[\s¶#§🔗]+$")  # anchor glyphs that documentation generators append to headings
_CRUMB_SEPARATORS = "›>»/|→·:\\"
_CRUMB_TRAIL_MAX_CHARS = 120  # the crumbs before the title in a breadcrumb ("Home > News > World")
MIN_AGREEMENT = 0.6  # token Jaccard of a heading and the metadata title for the heading to be the title


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


def site_name_keys(url_or_host: str | None) -> frozenset[str]:
    """The names a site's host gives it, letters and digits only ("forum.cookshack.com" ->
    cookshack, cookshackcom): a title part or heading equal to one is the site's name, not the page's."""
    text = url_or_host or ""
    host = (urlsplit(text).hostname if "//" in text else text) or ""
    labels = [x for x in host.casefold().split(".") if x and x not in ("www", "m")]
    keys = {"".join(labels[i:]) for i in range(len(labels) - 1)} | set(labels[:-1])
    return frozenset(k for k in (_key(k) for k in keys) if len(k) >= 3)


def _key(s: str) -> str:
    return _NON_WORD.sub("", s.casefold())


def strip_site_name(title: str, names: frozenset[str]) -> str:
    """The title without a first or last separator-delimited part that is the site's host name."""
    seps = list(_SEP.finditer(title))
    if not seps or not names:
        return title
    if _key(title[seps[-1].end() :]) in names:
        return title[: seps[-1].start()].strip()
    if _key(title[: seps[0].start()]) in names:
        return title[seps[0].end() :].strip()
    return title


def _usable(b: Block, max_chars: int) -> bool:
    return not b.is_boilerplate and not b.is_dateline and len(b.text) <= max_chars


def _words(s: str) -> frozenset[str]:
    return frozenset(_WORD.findall(s.casefold()))


def agreement(heading: str, meta_titles: list[str]) -> float:
    """How well a heading matches the page's metadata title: the best token Jaccard over them."""
    h = _words(heading)
    best = 0.0
    for m in meta_titles:
        w = _words(m)
        if h | w:
            best = max(best, len(h & w) / len(h | w))
    return best


def _heading_text(b: Block, names: frozenset[str]) -> str:
    return strip_site_name(_PERMALINK.sub("", b.text), names)


def choose_title(page: ParsedPage, affixes: TitleAffixes, max_chars: int) -> tuple[str | None, Block | None]:
    """(title, the block it came from or None). Never a boilerplate heading (a section name the site
    repeats) nor one that is the site's host name (a logo). Order: the heading that agrees with the
    <title>/og:title (h1s first, then other headings); the first other h1; the <title>/og:title
    without the affixes the site repeats and the site's name; the first main-content heading; for
    plain text, the first non-boilerplate block."""
    blocks = page.blocks
    names = site_name_keys(page.page.url or page.site)
    metas = [strip_site_name(strip_affixes(m, affixes), names) for m in (page.og_title, page.html_title) if m]
    metas = [m for m in metas if m]
    headings = [
        b for b in blocks if b.kind == "heading" and _usable(b, max_chars) and _key(b.text) not in names
    ]
    h1s = [b for b in headings if b.tag == "h1"]
    for group in (h1s, headings):
        scored = [(agreement(b.text, metas), -i, b) for i, b in enumerate(group)]
        best = max((s for s in scored if s[0] >= MIN_AGREEMENT), default=None, key=lambda s: s[:2])
        if best is not None:
            return _heading_text(best[2], names), best[2]
    if h1s:
        return _heading_text(h1s[0], names), h1s[0]
    if metas:
        cleaned = min(metas, key=len)  # og:title, or <title> when shorter: the one with fewer affixes
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


def repeats_title(text: str, title: str) -> bool:
    """A block that only repeats the page's title: a copy of it, or a breadcrumb trail that ends in
    it ("Home > News > <title>", short crumbs joined by a separator)."""
    text, title = " ".join(text.split()).casefold(), " ".join(_PERMALINK.sub("", title).split()).casefold()
    if not title or not text.endswith(title):
        return False
    trail = text[: len(text) - len(title)].rstrip()
    return not trail or (trail[-1] in _CRUMB_SEPARATORS and len(trail) <= _CRUMB_TRAIL_MAX_CHARS)
