"""Page-level metadata from an lxml tree: <title>, og:title, canonical URL, date candidates. Pure."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree, html

from pipeline.clean.dates import parse_date
from pipeline.records import DateCandidate

_WS = re.compile(r"\s+")

# meta name/property/itemprop (lower-cased) -> role
_META_DATES = {
    "article:published_time": "published",
    "og:published_time": "published",
    "article:published": "published",
    "datepublished": "published",
    "date": "published",
    "pubdate": "published",
    "publishdate": "published",
    "publish_date": "published",
    "publish-date": "published",
    "published_time": "published",
    "dc.date": "published",
    "dc.date.issued": "published",
    "dcterms.issued": "published",
    "dcterms.created": "published",
    "dc.date.created": "published",
    "citation_publication_date": "published",
    "citation_date": "published",
    "sailthru.date": "published",
    "parsely-pub-date": "published",
    "article.published": "published",
    "originalpublicationdate": "published",
    "article:modified_time": "updated",
    "og:updated_time": "updated",
    "article:modified": "updated",
    "datemodified": "updated",
    "dcterms.modified": "updated",
    "dc.date.modified": "updated",
    "last-modified": "updated",
    "lastmod": "updated",
    "article.updated": "updated",
}


@dataclass
class HtmlMeta:
    title: str | None = None
    og_title: str | None = None
    url: str | None = None  # canonical link or og:url
    dates: list[DateCandidate] = field(default_factory=list)
    jsonld: list[Any] = field(default_factory=list)  # the parsed JSON-LD scripts


def _clean(s: str | None) -> str | None:
    if s is None:
        return None
    s = _WS.sub(" ", s).strip()
    return s or None


def jsonld_documents(root: etree._Element) -> list[Any]:
    """The page's JSON-LD scripts, parsed once (dates here, the other fields in page_meta.py)."""
    out: list[Any] = []
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            out.append(json.loads(script.text or ""))
        except (json.JSONDecodeError, RecursionError):
            continue
    return out


def _jsonld_dates(documents: list[Any]) -> list[DateCandidate]:
    out: list[DateCandidate] = []
    for data in documents:
        stack = [data]
        seen = 0
        while stack and seen < 500:
            seen += 1
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                for key, role in (
                    ("datePublished", "published"),
                    ("dateCreated", "published"),
                    ("dateModified", "updated"),
                ):
                    value = node.get(key)
                    d = parse_date(value) if isinstance(value, str) else None
                    if d:
                        out.append(DateCandidate(d, role, "json-ld"))
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return out


def _meta_dates(root: etree._Element) -> list[DateCandidate]:
    out: list[DateCandidate] = []
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        role = _META_DATES.get(key)
        if role:
            d = parse_date(meta.get("content") or "")
            if d:
                out.append(DateCandidate(d, role, "meta"))
    return out


def _time_dates(root: etree._Element) -> list[DateCandidate]:
    """<time datetime> marked as published/updated by itemprop or class; unmarked ones are ignored
    here (a listing page has dozens) and left to the text and htmldate fallbacks."""
    out: list[DateCandidate] = []
    for el in root.iter("time"):
        marks = " ".join((el.get("itemprop") or "", el.get("class") or "", el.get("pubdate") or "")).lower()
        if "modified" in marks or "updated" in marks:
            role = "updated"
        elif "published" in marks or "pubdate" in marks or el.get("pubdate") is not None:
            role = "published"
        else:
            continue
        d = parse_date(el.get("datetime") or "".join(el.itertext()))
        if d:
            out.append(DateCandidate(d, role, "time"))
    return out


def extract_html_meta(root: etree._Element) -> HtmlMeta:
    meta = HtmlMeta()
    titles = root.xpath("//head/title | //title")
    if titles:
        meta.title = _clean("".join(titles[0].itertext()))
    for el in root.iter("meta"):
        prop = (el.get("property") or el.get("name") or "").lower()
        if prop == "og:title" and not meta.og_title:
            meta.og_title = _clean(el.get("content"))
        elif prop == "og:url" and not meta.url:
            meta.url = _clean(el.get("content"))
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            meta.url = _clean(link.get("href"))
            break
    if meta.url and not meta.url.lower().startswith(("http://", "https://")):
        meta.url = None
    meta.jsonld = jsonld_documents(root)
    meta.dates = _jsonld_dates(meta.jsonld) + _meta_dates(root) + _time_dates(root)
    return meta


def htmldate_guess(root: html.HtmlElement, url: str | None) -> DateCandidate | None:
    """htmldate's publication date (its original-date, extensive search, as trafilatura asks it),
    the last resort for a page with no publication date from JSON-LD, meta, <time> or its URL. Asked
    of every such page, sampled or not, so a page's date never depends on whether the extractor ran
    on it. find_date copies the tree before it prunes, so `root` is left as it was."""
    from htmldate import find_date  # here: only parser processes need it (preloaded there)

    found = find_date(
        root, url=url, original_date=True, extensive_search=True, max_date=dt.date.today().isoformat()
    )
    d = parse_date(found) if found else None
    return DateCandidate(d, "published", "htmldate") if d else None
