"""A page's author, description, site name, tags, image and declared language, read from its own
metadata in the lxml tree already parsed (so every page gets them, sampled by the layout model or
not), then completed from trafilatura's metadata on the pages it ran on. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from pipeline.clean.html_meta import jsonld_documents
from pipeline.clean.language import choose_language
from pipeline.clean.layout import page_teaches
from pipeline.records import DocumentMeta, PageMeta, ParsedPage

_WS = re.compile(r"\s+")
_BY = re.compile(r"^(?:by|written by|posted by|authored by|author|von|par|por)\s*:?\s+", re.I)
_NO_NAMES = {"admin", "administrator", "author", "the author", "editor", "guest", "staff", "unknown", "user"}
_LANG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$", re.I)
_LETTER = re.compile(r"[^\W\d_]")
MAX_AUTHOR_CHARS = 120  # longer is a bio or a sentence, not a name
MAX_TAG_CHARS = 80
MAX_TAGS = 50
MAX_JSONLD_NODES = 500  # nodes visited per page: a product feed in JSON-LD can hold thousands

# <meta> name/property (lower case) of each field, most trusted first
_AUTHOR_META = ("author", "article:author", "og:article:author", "dc.creator", "dcterms.creator",
                "citation_author", "parsely-author", "sailthru.author", "byl")  # fmt: skip
_DESCRIPTION_META = ("description", "og:description", "twitter:description", "dc.description")
_APP_NAME_META = ("application-name", "apple-mobile-web-app-title")  # a web app's name: the site's, mostly
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
_ARTICLE_TAG_META = ("article:section", "article:tag", "parsely-section", "parsely-tags")
_KEYWORD_META = ("keywords", "news_keywords")
_LANGUAGE_META = ("content-language", "og:locale", "dc.language", "language")


@dataclass
class _Found:
    """Meta contents by name, in page order; JSON-LD nodes that are dicts."""

    meta: dict[str, list[str]]
    nodes: list[dict[str, Any]]


def _clean(value: Any) -> str | None:
    """Whitespace collapsed and entities decoded (JSON-LD often carries `&amp;`); None when empty."""
    if not isinstance(value, str):
        return None
    text = _WS.sub(" ", unescape(value)).strip()
    return text or None


def _metas(root: etree._Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("http-equiv") or "").strip().lower()
        value = _clean(el.get("content"))
        if key and value:
            out.setdefault(key, []).append(value)
    return out


def _jsonld_nodes(documents: list[Any]) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, outer ones first (an @graph's items after the graph)."""
    out: list[dict[str, Any]] = []
    for data in documents:
        queue = [data]
        while queue and len(out) < MAX_JSONLD_NODES:
            node = queue.pop(0)
            if isinstance(node, list):
                queue.extend(node)
            elif isinstance(node, dict):
                out.append(node)
                graph = node.get("@graph")
                if isinstance(graph, list):
                    queue.extend(graph)
    return out


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    names = t if isinstance(t, list) else [t]
    return {n.lower() for n in names if isinstance(n, str)}


_NOT_CONTENT = {
    "organization", "website", "webpage", "breadcrumblist", "person", "imageobject", "searchaction"
}  # fmt: skip


def _content_nodes(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The nodes that describe the page's content (an Article, a Product, ...), before the others."""
    yield from (n for n in nodes if _types(n) and not _types(n) <= _NOT_CONTENT)
    yield from (n for n in nodes if not _types(n) or _types(n) <= _NOT_CONTENT)


def _names(value: Any, organizations: bool = True) -> list[str]:
    """Names of a JSON-LD author or publisher value: a string, an object with a name, or a list;
    without the Organization objects when `organizations` is false."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and not organizations and "organization" in _types(item):
            continue
        name = _clean(item.get("name")) if isinstance(item, dict) else _clean(item)
        if name:
            out.append(name)
    return out


def clean_author(value: str | None) -> str | None:
    """A name as a byline gives it, or None for what is no name (a profile URL, an e-mail address)."""
    if not value:
        return None
    value = _BY.sub("", value.strip()).strip(" ,;|")
    lowered = value.lower()
    if (
        not value
        or len(value) > MAX_AUTHOR_CHARS
        or lowered.startswith(("http://", "https://", "www.", "/"))
        or "@" in value
        or lowered in _NO_NAMES
        or not _LETTER.search(value)
    ):
        return None
    return value


def _join_authors(names: list[str]) -> str | None:
    cleaned = [a for a in (clean_author(n) for n in names) if a]
    return "; ".join(dict.fromkeys(cleaned)) or None


def _author(found: _Found) -> tuple[str | None, str | None]:
    """JSON-LD people, else <meta> names with a space in them, else JSON-LD organizations, else a
    one-word <meta> name: an organization credited as author (a clinic, a newspaper) and a user name
    in <meta> ("kffnirmitap") are what a page says when it has nothing better."""
    nodes = list(_content_nodes(found.nodes))
    metas = [_join_authors(found.meta.get(key, [])) for key in _AUTHOR_META]
    for name, source in (
        *((_join_authors(_names(n.get("author"), organizations=False)), "json-ld") for n in nodes),
        *((m, "meta") for m in metas if m and " " in m),
        *((_join_authors(_names(n.get("author"))), "json-ld") for n in nodes),
        *((m, "meta") for m in metas),
    ):
        if name:
            return name, source
    return None, None


def _first_meta(found: _Found, keys: tuple[str, ...]) -> str | None:
    return next((v[0] for k in keys if (v := found.meta.get(k))), None)


def _description(found: _Found) -> tuple[str | None, str | None]:
    value = _first_meta(found, _DESCRIPTION_META)
    if value:
        return value, "meta"
    for node in _content_nodes(found.nodes):
        value = _clean(node.get("description"))
        if value:
            return value, "json-ld"
    return None, None


def _sitename(found: _Found) -> tuple[str | None, str | None]:
    """og:site_name, else the JSON-LD publisher's or WebSite's name, else the application name."""
    value = _first_meta(found, ("og:site_name",))
    if value:
        return value, "meta"
    for node in found.nodes:
        names = _names(node.get("publisher"))
        if names:
            return names[0], "json-ld"
    for node in found.nodes:
        if "website" in _types(node) and _clean(node.get("name")):
            return _clean(node.get("name")), "json-ld"
    value = _first_meta(found, _APP_NAME_META)
    return (value, "meta") if value else (None, None)


def split_tags(values: list[str], comma_separated: bool) -> tuple[str, ...]:
    """Tags in page order, each once (case-insensitively), without empty or overlong ones."""
    parts = [p for v in values for p in (v.split(",") if comma_separated else [v])]
    seen: dict[str, str] = {}
    for p in parts:
        tag = _WS.sub(" ", p).strip(" #;|")
        if tag and len(tag) <= MAX_TAG_CHARS and _LETTER.search(tag):
            seen.setdefault(tag.casefold(), tag)
    return tuple(seen.values())[:MAX_TAGS]


def _jsonld_strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [s for s in (_clean(i) for i in items) if s]


def _tags(found: _Found) -> tuple[tuple[str, ...], str | None]:
    """article:section and article:tag; else JSON-LD articleSection and keywords; else meta keywords."""
    tags = split_tags([v for k in _ARTICLE_TAG_META for v in found.meta.get(k, [])], comma_separated=False)
    if tags:
        return tags, "meta"
    for node in _content_nodes(found.nodes):
        values = _jsonld_strings(node.get("articleSection")) + _jsonld_strings(node.get("keywords"))
        tags = split_tags(values, comma_separated=True)
        if tags:
            return tags, "json-ld"
    tags = split_tags([v for k in _KEYWORD_META for v in found.meta.get(k, [])], comma_separated=True)
    return (tags, "meta") if tags else ((), None)


def absolute_url(value: str | None, page_url: str | None) -> str | None:
    """An http(s) URL, resolved against the page URL when relative; None for anything else."""
    if not value:
        return None
    url = urljoin(page_url, value) if page_url else value
    if url.startswith("//"):
        url = "https:" + url
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def _jsonld_image(value: Any) -> str | None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        url = _clean(item.get("url") or item.get("contentUrl")) if isinstance(item, dict) else _clean(item)
        if url:
            return url
    return None


def _image(found: _Found, root: etree._Element, page_url: str | None) -> tuple[str | None, str | None]:
    for key in _IMAGE_META:
        for value in found.meta.get(key, []):
            url = absolute_url(value, page_url)
            if url:
                return url, "meta"
    for node in _content_nodes(found.nodes):
        url = absolute_url(_jsonld_image(node.get("image") or node.get("thumbnailUrl")), page_url)
        if url:
            return url, "json-ld"
    for link in root.iter("link"):
        if "image_src" in (link.get("rel") or "").lower().split():
            url = absolute_url(_clean(link.get("href")), page_url)
            if url:
                return url, "meta"
    return None, None


def language_code(value: str | None) -> str | None:
    """The primary language subtag in lower case ("pt" of "pt-BR", "en" of "en_US"), or None."""
    m = _LANG.match(value.strip()) if value else None
    return m.group(1).lower() if m else None


def _declared_language(found: _Found, root: etree._Element) -> tuple[str | None, str | None]:
    code = language_code(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    if code:
        return code, "html-lang"
    for node in _content_nodes(found.nodes):
        code = language_code(next(iter(_jsonld_strings(node.get("inLanguage"))), None))
        if code:
            return code, "json-ld"
    code = language_code(_first_meta(found, _LANGUAGE_META))
    return (code, "meta") if code else (None, None)


def read_page_meta(root: etree._Element, page_url: str | None, jsonld: list[Any] | None = None) -> PageMeta:
    """The page's own metadata: <meta> names and properties, JSON-LD (`jsonld`: the scripts as
    html_meta.extract_html_meta parsed them; read here when not given), <html lang>."""
    documents = jsonld_documents(root) if jsonld is None else jsonld
    found = _Found(_metas(root), _jsonld_nodes(documents))
    author, author_source = _author(found)
    description, description_source = _description(found)
    sitename, sitename_source = _sitename(found)
    tags, tags_source = _tags(found)
    image, image_source = _image(found, root, page_url)
    language, language_source = _declared_language(found, root)
    return PageMeta(
        author=author,
        author_source=author_source,
        description=description,
        description_source=description_source,
        sitename=sitename,
        sitename_source=sitename_source,
        tags=tags,
        tags_source=tags_source,
        image=image,
        image_source=image_source,
        declared_language=language,
        declared_language_source=language_source,
    )


def _host_name(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return re.sub(r"^(?:www|w\d+)\.", "", host) if host else None


def extractor_meta(doc: Any, page_url: str | None) -> PageMeta:
    """trafilatura's metadata (its Document) as a PageMeta, every value marked `trafilatura`: author
    from a byline in the page, tags from tag and category links, and what it read from <meta>. Its
    site name made from the URL's host is not something the page says, and is left out."""
    author = _join_authors([a.strip() for a in (getattr(doc, "author", None) or "").split(";")])
    description = _clean(getattr(doc, "description", None))
    sitename = _clean(getattr(doc, "sitename", None))
    if sitename and sitename.lower() == _host_name(page_url):
        sitename = None
    found = [*(getattr(doc, "categories", None) or []), *(getattr(doc, "tags", None) or [])]
    tags = split_tags(found, comma_separated=False)
    image = absolute_url(_clean(getattr(doc, "image", None)), page_url)
    mark = "trafilatura"
    return PageMeta(
        author=author,
        author_source=mark if author else None,
        description=description,
        description_source=mark if description else None,
        sitename=sitename,
        sitename_source=mark if sitename else None,
        tags=tags,
        tags_source=mark if tags else None,
        image=image,
        image_source=mark if image else None,
    )


def needs_extractor_meta(own: PageMeta) -> bool:
    """Whether reconcile could take anything from trafilatura's metadata: not when the page's own
    metadata has a full-name author, a description, a site name, an image and tags (then
    trafilatura's metadata pass, a third of its time, is not asked for: its body is the same)."""
    full_author = own.author is not None and " " in own.author
    return not (full_author and own.description and own.sitename and own.image and own.tags)


def reconcile(own: PageMeta, extracted: PageMeta) -> PageMeta:
    """The page's own metadata with its gaps filled from trafilatura's. The page's own values win
    where both exist: every page of a site has them, sampled or not, so that a page's value seldom
    depends on whether the extractor ran on it; only a one-word author (a user name) gives way to a
    full name that does not contain it."""
    fill: dict[str, Any] = {}
    author, mine = extracted.author, own.author
    user_name = mine is not None and " " not in mine
    if author and (
        mine is None or (user_name and " " in author and mine.casefold() not in author.casefold())
    ):
        fill.update(author=author, author_source=extracted.author_source)
    for name in ("description", "sitename", "image"):
        if getattr(own, name) is None and getattr(extracted, name) is not None:
            fill.update(
                {name: getattr(extracted, name), f"{name}_source": getattr(extracted, f"{name}_source")}
            )
    if not own.tags and extracted.tags:
        fill.update(tags=extracted.tags, tags_source=extracted.tags_source)
    return replace(own, **fill) if fill else own


def document_meta(page: ParsedPage, text: str) -> DocumentMeta:
    """The documents columns of a page: its own metadata, completed from trafilatura's when the page
    is in its site's layout sample (a page that left the sample keeps the parse it had, and must
    give what a fresh run gives), and its language weighed on its clean text."""
    extracted = page.extractor_meta if page_teaches(page.in_sample, page.extractor) else None
    meta = reconcile(page.meta, extracted) if extracted is not None else page.meta
    language, language_source = choose_language(meta, text)
    return DocumentMeta(
        author=meta.author,
        author_source=meta.author_source,
        description=meta.description,
        description_source=meta.description_source,
        sitename=meta.sitename,
        sitename_source=meta.sitename_source,
        tags=list(meta.tags) or None,
        tags_source=meta.tags_source,
        language=language,
        language_source=language_source,
        image=meta.image,
        image_source=meta.image_source,
    )
