"""A site's date model: where htmldate finds the date on this site's pages, learned from the layout
sample, so the pages outside it need not pay for htmldate. Pure.

htmldate (the last resort, for a page with no published date of its own) runs on every page of the
sample. Each page without a structured published date also carries cheap *date hints*: by tag path,
the first date of its date-line blocks ("dateline:<path>"), the earliest of them ("dateline-min:<path>":
htmldate's original date is the earliest it sees) and the year of a copyright line ("copyright:<path>",
as January 1, as htmldate gives it). A hint key is learned when it gave htmldate's answer on at least
`min_evidence` sampled pages and never another date (nor a date where htmldate found none). An
unsampled page whose own sources leave it without a published date takes the date of the first learned
key it carries; a page that carries none of them (a layout the sample did not show), or a site whose
sample taught no key, gets htmldate after all (the site build's fallback, on those pages only), and the
document says why (`date_decision`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.clean.dates import dateline_dates
from pipeline.clean.html_meta import htmldate_guess
from pipeline.clean.segment_html import UnparseableHtml, parse_html
from pipeline.records import HTMLDATE_ASKED, Block, DateCandidate, ParsedPage

# what decided the dates of a page that has no published date of its own (documents.date_decision)
SAMPLED = "htmldate:sampled"  # htmldate ran at parse: the page is in its site's layout sample
LEARNED = "site-model"  # the site's learned hint gave the date (published_source "site-model")
NO_MODEL = "htmldate:no-site-model"  # htmldate as fallback: the site's sample taught no hint key
NOT_COVERED = "htmldate:not-covered"  # htmldate as fallback: the page carries none of the learned keys
UNREADABLE = "htmldate:unreadable"  # the fallback could not read the page again (changed or gone)

_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:(?:19|20)\d{2}\s*[-–—]\s*)?((?:19|20)\d{2})", re.I)
_COPYRIGHT_MAX_CHARS = 200


def date_hints(blocks: Iterable[Block]) -> list[tuple[str, dt.date]]:  # Hints
    """The page's cheap date hints, (key, date), the first per key in page order. Blocks must carry
    their date-line flags."""
    out: dict[str, dt.date] = {}
    for b in blocks:
        if b.is_dateline:
            cands = dateline_dates(b.text)
            if cands:
                d = next((c for c in cands if c.role == "published"), cands[0]).date
                out.setdefault(f"dateline:{b.tag_path}", d)
                earliest = f"dateline-min:{b.tag_path}"  # htmldate's original date is the earliest
                out[earliest] = min(d, out.get(earliest, d))
        elif len(b.text) <= _COPYRIGHT_MAX_CHARS and (m := _COPYRIGHT.search(b.text)):
            key = f"copyright:{b.tag_path}"
            if key not in out:
                out[key] = dt.date(int(m.group(1)), 1, 1)
    return list(out.items())


Hints = list[tuple[str, dt.date]]
DateEvidence = tuple[Hints, dt.date | None]  # a sampled page's hints and htmldate's date (None: none)
# pages the model cannot decide -> doc_id -> htmldate's candidate (None: it found none); a page it
# could not read again is left out
HtmldateFallback = Callable[[list[ParsedPage]], dict[str, DateCandidate | None]]


def evidence_of(
    in_sample: bool | None, htmldate: str | None, candidates: Iterable[DateCandidate], hints: Hints
) -> DateEvidence | None:
    """What a page teaches the date model: a sampled page that htmldate was asked of."""
    if not in_sample or htmldate != HTMLDATE_ASKED:
        return None
    found = next((c.date for c in candidates if c.source == "htmldate"), None)
    return hints, found


def htmldate_of_content(pages: list[ParsedPage]) -> dict[str, DateCandidate | None]:
    """The fallback for pages still holding their HTML (built in memory, straight from parse_page);
    pages from the run state hold none and need the run's fallback (run/date_fallback.py)."""
    out: dict[str, DateCandidate | None] = {}
    for p in pages:
        if not p.page.content:
            continue
        try:
            out[p.page.doc_id] = htmldate_guess(parse_html(p.page.content), p.page.url)
        except UnparseableHtml:
            continue
    return out


@dataclass(frozen=True)
class DateModel:
    """The hint keys that agreed with htmldate on the sample, most agreeing first."""

    keys: tuple[str, ...] = ()
    evidence: dict[str, int] = field(default_factory=dict)  # key -> sampled pages it agreed on

    @classmethod
    def learn(cls, evidence: Iterable[DateEvidence], min_evidence: int) -> DateModel:
        """From (hints, htmldate's date or None) of the sampled pages htmldate ran on."""
        agree: Counter = Counter()
        disagree: Counter = Counter()
        for hints, found in evidence:
            for key, d in hints:
                if d == found:
                    agree[key] += 1
                else:
                    disagree[key] += 1
        keys = sorted(
            (k for k, n in agree.items() if n >= min_evidence and not disagree[k]),
            key=lambda k: (-agree[k], k),
        )
        return cls(tuple(keys), {k: agree[k] for k in keys})

    def decide(self, hints: Hints) -> DateCandidate | None:
        """The date of the first learned key the page carries, else None (the page needs htmldate)."""
        by_key = dict(hints)
        for key in self.keys:
            if key in by_key:
                return DateCandidate(by_key[key], "published", LEARNED)
        return None

    def why_not(self) -> str:
        """Why a page the model cannot decide gets htmldate."""
        return NOT_COVERED if self.keys else NO_MODEL
