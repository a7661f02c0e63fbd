"""Typed fetch errors: only what is on an explicit allow-list is retried."""

from __future__ import annotations


class FetchError(Exception):
    """Base of all fetch failures; `reason` is the short code written to the crawl log."""

    reason = "error"

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class TransientFetchError(FetchError):
    """Worth retrying: timeouts, connection errors, 5xx, 429."""

    reason = "transient"

    def __init__(self, message: str, reason: str | None = None, retry_after: float | None = None):
        super().__init__(message, reason)
        self.retry_after = retry_after


class PermanentFetchError(FetchError):
    """Not worth retrying: 4xx, too large, wrong content type, redirect loops."""

    reason = "permanent"


class RefusedURL(FetchError):
    """Refused before any connection: scheme, address, robots.txt or scope."""

    reason = "refused"


class Disallowed(RefusedURL):
    """Not requested because robots.txt of the URL's origin says so (or could not be read)."""

    reason = "robots_txt"


class CrawlInterrupted(Exception):
    """The crawl was asked to stop (Ctrl-C, SIGTERM): not a failure of the URL in flight, which is
    left for the next crawl."""


class CrawlFailed(RuntimeError):
    """No seed of the crawl could be fetched: the crawl did nothing, and must not look like it did."""
