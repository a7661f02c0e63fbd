"""Finding URLs: sitemaps, RSS/Atom feeds and page links. Pure (parsing only).

trafilatura's sitemap and feed helpers fetch URLs themselves, past our robots.txt, politeness and
address checks, so the crawler fetches with its own guarded client and parses here, with an XML
parser that neither expands entities nor touches the network.
"""

from __future__ import annotations

import contextlib
import re

from lxml import etree, html

from pipeline.acquire.decode import UndecodableError, decode_bytes
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
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _parse_xml(body: bytes):
    try:
        return etree.fromstring(body, parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return None


BadLinks = list[tuple[str, RefusedURL]]  # (href as written, why it is no URL)


def _norm_all(urls, base: str, bad: BadLinks | None = None) -> list[str]:
    """Normalised http(s) URLs; other schemes (mailto:, javascript:) are dropped silently, malformed
    ones are dropped and, when `bad` is given, listed there."""
    out = []
    for u in urls:
        try:
            out.append(normalise(u, base=base))
        except RefusedURL as exc:
            if bad is not None and exc.reason == "bad_url":
                bad.append((u, exc))
            continue
        if len(out) >= MAX_LINKS_PER_DOCUMENT:
            break
    return out


def parse_sitemap(body: bytes, base: str) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index."""
    root = _parse_xml(body)
    if root is None:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
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


def page_links(body: bytes, url: str, bad: BadLinks | None = None, charset: str | None = None) -> list[str]:
    """Absolute http(s) links of an HTML page (<base href> respected), in page order, deduplicated;
    malformed ones go to `bad` when given. The page is decoded as the pipeline decodes pages (BOM,
    `charset` from the Content-Type header, <meta charset>, UTF-8, cp1252), so a non-ASCII href is
    the one the browser would follow."""
    try:
        text = decode_bytes(body, charset)[0]
    except UndecodableError:
        text = body.decode("cp1252", "replace")
    try:
        root = html.fromstring(_XML_DECLARATION.sub("", text, count=1))  # lxml refuses str with one
    except (etree.ParserError, ValueError):
        return []
    base = url
    for b in root.iter("base"):
        if b.get("href"):
            with contextlib.suppress(RefusedURL):
                base = normalise(b.get("href"), base=url)
            break
    hrefs = (a.get("href") for a in root.iter("a") if a.get("href"))
    seen: dict[str, None] = {}
    for link in _norm_all(hrefs, base, bad):
        seen.setdefault(link, None)
    return list(seen)
