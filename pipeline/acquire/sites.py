"""Which site a page belongs to, by one rule a user can predict: a plain file belongs to its folder under
the raw root (unless the run is asked for host-based sites); a crawled record belongs to the host of
its URL, with the port when it is not the scheme's default; a web-archive capture URL belongs to the
host of the page it captured. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# https://web.archive.org/web/20200101000000/https://example.org/page (also id_, im_ ... suffixes)
_ARCHIVE_CAPTURE = re.compile(r"^https?://(?:web\.)?archive\.org/web/\d{1,14}[a-z_]*/(?P<url>.+)$", re.I)


def original_url(url: str) -> str:
    """The captured page's URL for a web-archive capture URL; any other URL as it is."""
    match = _ARCHIVE_CAPTURE.match(url)
    if not match:
        return url
    inner = match.group("url")
    return inner if "://" in inner else "http://" + inner


def site_of_url(url: str | None) -> str | None:
    """host[:port] of a URL, lower-cased; None when the URL names no host."""
    if not url:
        return None
    try:
        parts = urlsplit(original_url(url))
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower()
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host


def no_site(url: str | None) -> str | None:
    """The rule for plain files: the URL a page names (canonical link, og:url) does not move it."""
    return None


def site_rule(crawled: bool, sites_by_host: bool) -> Callable[[str | None], str | None]:
    """The site_of function for a page: crawled records and host-based runs go by URL, plain files by
    their folder (the caller falls back to it when this gives None)."""
    return site_of_url if crawled or sites_by_host else no_site
