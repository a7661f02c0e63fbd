"""URL normalisation and crawl scope. Pure.

A URL is requested as a browser sends it: w3lib's `safe_url_string` (Scrapy's) percent-encodes an IRI's
path and query as UTF-8 and IDNA-encodes its host; on top of that the canonical form drops the
fragment, the default port and any user:password, resolves dot segments and upper-cases percent
escapes, so one page has one string in the frontier, the crawl log and the WARC files."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from pipeline.acquire.errors import RefusedURL

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
MAX_URL_LENGTH = 8192  # longer "URLs" are junk (data blobs in href); servers refuse them anyway


def check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise RefusedURL(
            f"only http and https URLs are crawled, not {scheme or 'a relative'} URL: {url[:200]}", "scheme"
        )


def _bad(url: str, why: str) -> RefusedURL:
    return RefusedURL(f"bad URL ({why}): {url[:200]!r}", "bad_url")


def normalise(url: str, base: str | None = None) -> str:
    """The canonical, ASCII form of url (resolved against base); RefusedURL for anything that is not
    a well-formed http(s) URL (reason "scheme" or "bad_url"), never another exception."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _bad(url, f"over {MAX_URL_LENGTH} characters")
    try:
        if base:
            url = urljoin(base, url)
        check_scheme(url)
        safe = safe_url_string(url)
        parts = urlsplit(safe)
        port = parts.port
        host = parts.hostname or ""
    except (ValueError, UnicodeError) as exc:  # "Invalid IPv6 URL", port out of range, bad IDNA label
        raise _bad(url, str(exc) or type(exc).__name__) from exc
    scheme = parts.scheme.lower()
    host = host.lower().rstrip(".")
    if not host:
        raise RefusedURL(f"URL has no host: {url[:200]}", "scheme")
    if ":" in host:
        netloc = f"[{host}]"  # urlsplit has checked the IPv6 literal
    elif _HOST.fullmatch(host):
        netloc = host
    else:
        raise _bad(url, f"host {host[:100]!r}")
    if port and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    raw_path = "/" + parts.path.lstrip("/") if parts.path.startswith("//") else parts.path  # never a new host
    path = urlsplit(urljoin(f"{scheme}://{netloc}/", raw_path or "/")).path  # resolves /a/../b
    return urlunsplit((scheme, netloc, _upper_escapes(path) or "/", _upper_escapes(parts.query), ""))


def _upper_escapes(text: str) -> str:
    """%c3%a4 -> %C3%A4: the same octets (RFC 3986 6.2.2.1), one spelling."""
    return _ESCAPE.sub(lambda m: m.group(0).upper(), text)


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def host_key(url: str) -> str:
    """host[:port] of a normalised URL: one politeness slot, one raw/ folder."""
    return urlsplit(url).netloc.lower()


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL: what one robots.txt governs (RFC 9309 2.3)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def read_url_list(path: Path) -> list[str]:
    """URLs of a text file, one a line as for trafilatura's `-i`: blank lines and lines starting
    with '#' are ignored. Raises ValueError naming the file and line of the first unusable line.
    Touches disk."""
    urls = []
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            urls.append(normalise(line))
        except RefusedURL as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return urls


class Scope:
    """Same host as the seeds, plus optional include/exclude regexes."""

    def __init__(self, hosts: set[str], include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()):
        self.hosts = {h.lower() for h in hosts}
        self.include = [re.compile(p) for p in include]
        self.exclude = [re.compile(p) for p in exclude]

    def __contains__(self, url: str) -> bool:
        if host_key(url) not in self.hosts:
            return False
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)
