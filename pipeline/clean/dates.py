"""Publication and update dates: parsing date strings, spotting date lines, choosing the best
candidate. Pure; htmldate is asked (html_meta.htmldate_guess) only as a last resort."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.records import DateCandidate

_MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
    # Spanish, French, German month names seen on multilingual sites
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "januar": 1,
    "februar": 2,
    "märz": 3,
    "juni": 6,
    "juli": 7,
    "oktober": 10,
    "dezember": 12,
}
_MONTH = r"(?P<mon>" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"

# Patterns are tried in order; each must match at the start of the string given.
_PATTERNS = [
    re.compile(rf"{_YEAR}-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?![\d])"),  # 2025-12-18[T..]
    re.compile(rf"{_YEAR}/(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})(?!\d)"),  # 2025/12/18
    re.compile(rf"{_WEEKDAY}{_DAY}\s+(?:de\s+)?{_MONTH},?\s+(?:de\s+)?{_YEAR}", re.I),  # 18 December 2025
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}", re.I),  # December 18, 2025
    re.compile(rf"(?P<day>\d{{1,2}})[./](?P<month>\d{{1,2}})[./]{_YEAR}(?!\d)"),  # 18.12.2025, day first
    re.compile(rf"{_YEAR}(?P<month>\d{{2}})(?P<day>\d{{2}})(?!\d)"),  # 20251218
]

_PUBLISHED_LABELS = (
    r"first published|originally published|published on|published|posted on|posted|date read|"
    r"date|publication date|publicado|publié le|publié|veröffentlicht"
)
_UPDATED_LABELS = (
    r"last updated on|last updated|last update|updated on|updated|last modified|modified|last reviewed|"
    r"reviewed|revised|actualizado|mis à jour|aktualisiert"
)
_LABEL = re.compile(rf"\b(?P<label>{_UPDATED_LABELS}|{_PUBLISHED_LABELS})\b\s*[:\-–—]?\s*(?:on\s+)?", re.I)
_DIGIT = re.compile(r"\d")
_DATELINE_MAX_CHARS = 160  # a date line is short; a long block with a date in it is article text
_BARE_DATE_MAX_CHARS = 60  # "August 1, 2021 #TIL": a short block that starts with a date
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[-_]|$)")


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        d = dt.date(year, month, day)
    except ValueError:
        return None
    return d if dt.date(1990, 1, 1) <= d <= dt.date.today() + dt.timedelta(days=2) else None


def _from_match(m: re.Match) -> dt.date | None:
    g = m.groupdict()
    month = _MONTHS[g["mon"].lower()] if g.get("mon") else int(g["month"])
    return _make(int(g["year"]), month, int(g["day"]))


def parse_date_prefix(s: str) -> tuple[dt.date, int] | None:
    """A date at the very start of s (after spaces) and how many characters it used."""
    stripped = s.lstrip()
    offset = len(s) - len(stripped)
    for pat in _PATTERNS:
        m = pat.match(stripped)
        if m:
            d = _from_match(m)
            if d:
                return d, offset + m.end()
    return None


def parse_date(s: str | None) -> dt.date | None:
    """Parse a whole date string in the common formats (ISO, '18 December 2025', 'Dec 18, 2025', ...)."""
    if not s:
        return None
    got = parse_date_prefix(s.strip())
    return got[0] if got else None


def labelled_dates(text: str) -> list[DateCandidate]:
    """Date candidates of a labelled date line ('First published 18 December 2025', 'Updated:
    2024-01-02', 'Date Read: February 17, 2005'), else []."""
    if len(text) > _DATELINE_MAX_CHARS or not _DIGIT.search(text):  # every date has a year
        return []
    out: list[DateCandidate] = []
    for m in _LABEL.finditer(text):
        got = parse_date_prefix(text[m.end() :])
        if got:
            label = m.group("label").lower()
            role = "updated" if re.fullmatch(_UPDATED_LABELS, label) else "published"
            out.append(DateCandidate(got[0], role, "text"))
    return out


def dateline_dates(text: str) -> list[DateCandidate]:
    """Date candidates if the block is a date line: a labelled one, or a short block that starts
    with a date ('August 1, 2021 #TIL'), else []."""
    out = labelled_dates(text)
    if not out and len(text) <= _BARE_DATE_MAX_CHARS:
        got = parse_date_prefix(text)
        if got:
            out.append(DateCandidate(got[0], "published", "text"))
    return out


def url_date(url: str | None) -> DateCandidate | None:
    """/2021/03/05/ in a URL path is a publication date."""
    if not url:
        return None
    m = _URL_DATE.search(url)
    if not m:
        return None
    d = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return DateCandidate(d, "published", "url") if d else None


# Most to least trusted; text date lines beat page-wide metadata only when no structured date exists.
_SOURCE_RANK = {"json-ld": 0, "meta": 1, "time": 2, "text": 3, "url": 4, "htmldate": 5}


def choose_dates(cands: list[DateCandidate]) -> tuple[DateCandidate | None, DateCandidate | None]:
    """(published, updated). Best-ranked source wins; within the text source the earliest published
    line is `published` and a later one becomes `updated` ("First published" twice). `updated` is
    what the page states, also when that is the day of publication or earlier; null only when the
    page states no update."""
    pub = [c for c in cands if c.role == "published"]
    upd = [c for c in cands if c.role == "updated"]
    published = min(pub, key=lambda c: (_SOURCE_RANK.get(c.source, 9), c.date), default=None)
    updated = min(upd, key=lambda c: (_SOURCE_RANK.get(c.source, 9), -c.date.toordinal()), default=None)
    if published is not None:
        later = [c for c in pub if c.source == published.source and c.date > published.date]
        if later and updated is None:
            updated = max(later, key=lambda c: c.date)
    return published, updated
