"""Finding URLs: robots.txt rules, sitemaps, RSS/Atom feeds and page links. Pure (parsing only).

trafilatura's sitemap and feed helpers fetch URLs themselves, past our robots.txt, politeness and
address checks, so the crawler fetches with its own guarded client and parses here, with an XML
parser that neither expands entities nor touches the network.
"""

from __future__ import annotations

from lxml import etree, html
from protego import Protego

from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.urls import normalise

_SAFE_XML = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    recover=True,
    load_dtd=False,
    dtd_validation=False,
)
MAX_LINKS_PER_DOCUMENT = 50_000


class Robots:
    """robots.txt rules for one host (protego); allow-all when there is no robots.txt."""

    def __init__(self, body: str | None, user_agent: str):
        self._rules = Protego.parse(body) if body else None
        self._ua = user_agent.split("/")[0]

    def allowed(self, url: str) -> bool:
        return self._rules is None or self._rules.can_fetch(url, self._ua)

    def crawl_delay(self) -> float | None:
        return float(d) if self._rules and (d := self._rules.crawl_delay(self._ua)) else None

    def sitemaps(self) -> list[str]:
        return list(self._rules.sitemaps) if self._rules else []


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _parse_xml(body: bytes):
    try:
        return etree.fromstring(body, parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return None


def _norm_all(urls, base: str) -> list[str]:
    out = []
    for u in urls:
        try:
            out.append(normalise(u, base=base))
        except RefusedURL:
            continue
        if len(out) >= MAX_LINKS_PER_DOCUMENT:
            break
    return out


def parse_sitemap(body: bytes, base: str) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index."""
    root = _parse_xml(body)
    if root is None:
        return [], []
    pages, nested = [], []
    for el in root.iter():
        if _local(el.tag) == "loc" and el.text:
            parent = _local(el.getparent().tag) if el.getparent() is not None else ""
            (nested if parent == "sitemap" else pages).append(el.text.strip())
    return _norm_all(pages, base), _norm_all(nested, base)


def parse_feed(body: bytes, base: str) -> list[str]:
    """Item links of an RSS or Atom feed."""
    root = _parse_xml(body)
    if root is None:
        return []
    links = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "link":
            parent = _local(el.getparent().tag) if el.getparent() is not None else ""
            if parent in ("item", "entry"):
                href = el.get("href") or el.text
                if href and el.get("rel", "alternate") == "alternate":
                    links.append(href.strip())
    return _norm_all(links, base)


def page_links(body: bytes, url: str) -> list[str]:
    """Absolute http(s) links of an HTML page (<base href> respected), in page order, deduplicated."""
    try:
        root = html.fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    base = url
    for b in root.iter("base"):
        if b.get("href"):
            try:
                base = normalise(b.get("href"), base=url)
            except RefusedURL:
                pass
            break
    hrefs = (a.get("href") for a in root.iter("a") if a.get("href"))
    seen: dict[str, None] = {}
    for link in _norm_all(hrefs, base):
        seen.setdefault(link, None)
    return list(seen)
