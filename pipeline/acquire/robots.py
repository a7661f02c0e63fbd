"""robots.txt as RFC 9309 says, one per origin (scheme, host and port): parsed with protego from
whatever media type it is served as, at most its first ROBOTS_LIMIT bytes (a larger file is cut
there, not ignored); 4xx means no rules; a server error or an unreachable server after retries
means disallow everything. Touches network through the Fetcher it is given."""

from __future__ import annotations

from collections.abc import Callable

from protego import Protego

from pipeline.acquire.errors import Disallowed, FetchError, PermanentFetchError, RefusedURL
from pipeline.acquire.fetch import Fetcher, FetchResult, Want
from pipeline.acquire.urls import origin

ROBOTS_LIMIT = 512 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB
# unavailable (2.3.1.3): no rules at all; too many redirects counts as unavailable (2.3.1.2)
_UNAVAILABLE = {"too_many_redirects", "redirect_loop", "bad_redirect"}


class Robots:
    """The rules of one origin, or a verdict that holds for all of it (refused host, unreachable
    robots.txt)."""

    def __init__(self, body: str | None, user_agent: str, blocked: FetchError | None = None):
        self._rules = Protego.parse(body) if body else None
        self._ua = user_agent.split("/")[0]
        self.blocked = blocked

    def check(self, url: str) -> None:
        """Raise Disallowed (or the host's RefusedURL) when url may not be requested."""
        if self.blocked is not None:
            raise self.blocked
        if self._rules is not None and not self._rules.can_fetch(url, self._ua):
            raise Disallowed(f"disallowed by robots.txt: {url[:200]}", "robots_txt")

    def allowed(self, url: str) -> bool:
        try:
            self.check(url)
        except RefusedURL:
            return False
        return True

    def crawl_delay(self) -> float | None:
        return float(d) if self._rules and (d := self._rules.crawl_delay(self._ua)) else None

    def sitemaps(self) -> list[str]:
        return list(self._rules.sitemaps) if self._rules else []


def _text(result: FetchResult) -> str:
    body = result.body
    if result.truncated:  # cut at the last complete line: half a rule is no rule
        body = body[: body.rfind(b"\n") + 1]
    return body.decode("utf-8", "replace")


OnFetch = Callable[[str, FetchResult | None, FetchError | None], None]


class RobotsBook:
    """robots.txt of every origin the crawl touches, fetched once each on first use (the crawled
    host's, and any a redirect leads to); `on_fetch` logs each fetch."""

    def __init__(self, fetcher: Fetcher, user_agent: str, obey: bool, on_fetch: OnFetch):
        self.fetcher, self.user_agent, self.obey, self.on_fetch = fetcher, user_agent, obey, on_fetch
        self._by_origin: dict[str, Robots] = {}

    def __call__(self, url: str) -> Robots:
        key = origin(url)
        if key not in self._by_origin:
            self._by_origin[key] = self._load(key) if self.obey else Robots(None, self.user_agent)
        return self._by_origin[key]

    def check(self, url: str) -> None:
        """A Permit for the fetcher: raises RefusedURL/Disallowed when url may not be requested."""
        self(url).check(url)

    def _load(self, key: str) -> Robots:
        url = f"{key}/robots.txt"
        try:
            result = self.fetcher.get(url, want=Want(None, ROBOTS_LIMIT, truncate=True))
        except RefusedURL as exc:  # the host itself is refused: so is every URL of it
            self.on_fetch(url, None, exc)
            return Robots(None, self.user_agent, blocked=exc)
        except PermanentFetchError as exc:
            self.on_fetch(url, None, exc)
            if exc.reason.startswith("http_4") or exc.reason in _UNAVAILABLE:
                return Robots(None, self.user_agent)
            return Robots(None, self.user_agent, blocked=_unreachable(url, exc))
        except FetchError as exc:  # 5xx, 429 or no connection after retries (2.3.1.4)
            self.on_fetch(url, None, exc)
            return Robots(None, self.user_agent, blocked=_unreachable(url, exc))
        self.on_fetch(url, result, None)
        return Robots(_text(result) if 200 <= result.status < 300 else None, self.user_agent)


def _unreachable(url: str, exc: FetchError) -> Disallowed:
    return Disallowed(
        f"{url} could not be read ({exc}), so nothing of its host is fetched (RFC 9309)", "robots_unreachable"
    )
