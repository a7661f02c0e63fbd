"""URL normalisation and crawl scope. Pure."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from pipeline.acquire.errors import RefusedURL

_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise RefusedURL(
            f"only http and https URLs are crawled, not {scheme or 'a relative'} URL: {url[:200]}", "scheme"
        )


def normalise(url: str, base: str | None = None) -> str:
    """Absolute, lower-case scheme and host, default port and fragment dropped, empty path -> '/'."""
    if base:
        url = urljoin(base, url.strip())
    check_scheme(url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise RefusedURL(f"URL has no host: {url[:200]}", "scheme")
    try:
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"bad port in {url[:200]}", "scheme") from exc
    netloc = f"[{host}]" if ":" in host else host
    if port and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    raw_path = "/" + parts.path.lstrip("/") if parts.path.startswith("//") else parts.path  # never a new host
    path = urlsplit(urljoin(f"{scheme}://{netloc}/", raw_path or "/")).path  # resolves /a/../b
    return urlunsplit((scheme, netloc, path or "/", parts.query, ""))


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def host_key(url: str) -> str:
    """host[:port] as written in the URL: one politeness slot, one raw/ folder."""
    return urlsplit(url).netloc.lower()


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
