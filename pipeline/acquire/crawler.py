"""Crawling one host: robots.txt, sitemaps and feeds, then breadth-first link following within scope,
one polite request at a time, every outcome logged and every stored page written to WARC. A bad link,
header or body costs its URL only (a crawl-log row with the reason); a stop request ends the crawl
between two reads with the WARC file and the log closed. Touches network and disk (through the WARC
sink and log writer it is given)."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.acquire.discover import BadLinks, page_links, parse_feed, parse_sitemap
from pipeline.acquire.errors import CrawlInterrupted, Disallowed, FetchError, PermanentFetchError, RefusedURL
from pipeline.acquire.fetch import Fetcher, FetchResult, Want
from pipeline.acquire.robots import RobotsBook
from pipeline.acquire.stored_copies import StoredCopies
from pipeline.acquire.urls import Scope, host_key
from pipeline.acquire.warc_writer import WarcSink
from pipeline.config import CrawlConfig
from pipeline.records import CrawlLogRow, KnownPage

MAX_SITEMAPS = 50  # sitemap files per host, nested indexes included
DISCOVERY_TYPES = (
    "application/xml",
    "text/xml",
    "application/rss+xml",
    "application/atom+xml",
    "text/plain",
    "text/html",
    "application/x-gzip",
    "application/gzip",
)
SKIP_REASONS = {"unsupported_type", "too_large", "unsupported_encoding"}  # not the server's fault
NOT_REACHED = "not reached (the crawl stopped first)"


class LogSink(Protocol):
    """Where the crawler's log rows go as it fetches (store/crawl_log.CrawlLogWriter)."""

    def add(self, row: CrawlLogRow) -> None: ...

    def close(self) -> None: ...


@dataclass
class HostStats:
    host: str
    stored: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    refused: int = 0
    disallowed: int = 0
    queued: int = 0
    bytes: int = 0
    retries: int = 0
    statuses: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    warc_files: list[str] = field(default_factory=list)
    seeds: int = 0
    seed_errors: dict[str, str] = field(default_factory=dict)  # seed URL -> why it could not be fetched
    interrupted: bool = False

    @property
    def done(self) -> int:
        return self.stored + self.unchanged + self.failed + self.skipped + self.refused + self.disallowed

    @property
    def fetched(self) -> int:
        return self.stored + self.unchanged


ProgressCallback = Callable[[HostStats], None]


def describe(row: CrawlLogRow) -> str:
    """One line saying what became of a URL, for the terminal."""
    if row.outcome in ("stored", "unchanged") or (row.outcome == "discovery" and row.error is None):
        return row.outcome
    return f"{row.outcome}: {row.error or row.reason}"


class HostCrawler:
    def __init__(
        self,
        host: str,
        cfg: CrawlConfig,
        crawl_id: str,
        sink: WarcSink,
        log: LogSink,
        known: dict[str, KnownPage],
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ):
        self.host, self.cfg, self.crawl_id = host, cfg, crawl_id
        self.sink, self.log, self.known = sink, log, known
        self.on_progress = on_progress or (lambda stats: None)
        self.stats = HostStats(host)
        self.scope = Scope({host}, cfg.include, cfg.exclude)
        self.fetcher = Fetcher(cfg, stop)
        self.robots = RobotsBook(self.fetcher, cfg.user_agent, cfg.obey_robots, self._robots_row)
        self.stored = StoredCopies(sink.directory, cfg.max_body_bytes)
        self._seed_state: dict[str, str | None] = {}  # None: fetched

    # -- logging -----------------------------------------------------------------------------------
    def _row(
        self,
        url: str,
        outcome: str,
        depth: int,
        result: FetchResult | None = None,
        error: FetchError | None = None,
        **extra,
    ) -> None:
        row = CrawlLogRow(crawl_id=self.crawl_id, host=self.host, url=url, outcome=outcome, depth=depth)
        if result is not None:
            row.final_url, row.status, row.content_type = result.final_url, result.status, result.content_type
            row.etag, row.last_modified = result.etag, result.last_modified
            row.duration, row.retries, row.redirect_chain = (
                result.duration,
                result.retries,
                result.redirect_chain,
            )
            row.fetched_at = result.fetched_at
            self.stats.statuses[result.status] += 1
        for key, value in extra.items():
            setattr(row, key, value)
        if error is not None:
            row.reason, row.error = error.reason, str(error)[:1000]
            row.retries = getattr(error, "retries", 0)
            if error.reason.startswith("http_") and error.reason[5:].isdigit():
                row.status = int(error.reason[5:])
                self.stats.statuses[row.status] += 1
            self.stats.reasons[error.reason] += 1
        self.stats.retries += row.retries
        if self._seed_state.get(url) is not None:  # a seed, not fetched so far
            why = describe(row)
            self._seed_state[url] = None if why in ("stored", "unchanged", "discovery") else why
        self.log.add(row)

    def _robots_row(self, url: str, result: FetchResult | None, error: FetchError | None) -> None:
        self._row(url, "discovery", 0, result=result, error=error, bytes=len(result.body) if result else 0)

    # -- discovery ---------------------------------------------------------------------------------
    def _get(self, url: str) -> FetchResult | None:
        """Fetch a sitemap or feed: logged as discovery, never stored as a page."""
        try:
            self.robots.check(url)
            result = self.fetcher.get(
                url, want=Want(DISCOVERY_TYPES, self.cfg.max_body_bytes), permit=self.robots.check
            )
        except Disallowed as exc:
            self.stats.disallowed += 1
            self._row(url, "disallowed", 0, error=exc)
            return None
        except FetchError as exc:
            self._row(url, "discovery", 0, error=exc)
            return None
        self._row(url, "discovery", 0, result=result, bytes=len(result.body))
        return result

    def _from_sitemaps(self, sitemaps: list[str]) -> list[str]:
        pages: list[str] = []
        todo, seen = deque(sitemaps), set[str]()
        while todo and len(seen) < MAX_SITEMAPS:
            url = todo.popleft()
            if url in seen or url not in self.scope:
                continue
            seen.add(url)
            result = self._get(url)
            if result is not None and result.body:
                found, nested = parse_sitemap(result.body, result.final_url)
                pages.extend(found)
                todo.extend(nested)
        return pages

    def _from_feeds(self, feeds: list[str]) -> list[str]:
        pages: list[str] = []
        for url in feeds:
            if url in self.scope:
                result = self._get(url)
                if result is not None and result.body:
                    pages.extend(parse_feed(result.body, result.final_url))
        return pages

    # -- the crawl ---------------------------------------------------------------------------------
    def run(self, seeds: Sequence[str], sitemaps: Sequence[str] = (), feeds: Sequence[str] = ()) -> HostStats:
        """Crawl the host; returns its counters (with `interrupted` set when stopped). The WARC file
        and the crawl log are closed however the crawl ends."""
        seeds, sitemaps, feeds = list(seeds), list(sitemaps), list(feeds)
        self._seed_state = dict.fromkeys(seeds + sitemaps + feeds, NOT_REACHED)
        self.stats.seeds = len(self._seed_state)
        try:
            self._crawl(seeds, sitemaps, feeds)
        except CrawlInterrupted:
            self.stats.interrupted = True
        finally:
            self.fetcher.close()
            self.sink.close()
            self.log.close()
        self.stats.warc_files = [p.name for p in self.sink.files]
        self.stats.seed_errors = {u: why for u, why in self._seed_state.items() if why is not None}
        return self.stats

    def _crawl(self, seeds: list[str], sitemaps: list[str], feeds: list[str]) -> None:
        base = (seeds + sitemaps + feeds)[0]
        home = self.robots(base)
        delay = home.crawl_delay()
        if delay is not None and delay > self.fetcher.gate.delay:
            self.fetcher.gate.set_delay(delay)
        discovered = self._from_sitemaps(sitemaps + home.sitemaps())
        discovered += self._from_feeds(feeds)
        frontier: deque[tuple[str, int]] = deque()
        seen: set[str] = set()
        starts = [(u, 0) for u in seeds + discovered]
        starts += sorted(((u, k.depth) for u, k in self.known.items()), key=lambda x: (x[1], x[0]))
        for url in seeds + sitemaps + feeds:
            if url not in self.scope:
                self._seed_state[url] = "outside the --include/--exclude scope"
        for url, depth in starts:
            if url not in seen and url in self.scope:
                seen.add(url)
                frontier.append((url, depth))
        bad_seen: set[str] = set()
        while frontier and self.stats.fetched < self.cfg.max_pages:
            self.fetcher.budget.check()
            url, depth = frontier.popleft()
            self.stats.queued = len(frontier)
            links, bad = self._visit(url, depth)
            for link in links:
                if link not in seen and link in self.scope:
                    seen.add(link)
                    frontier.append((link, depth + 1))
            for href, exc in bad:
                if href not in bad_seen:
                    bad_seen.add(href)
                    self.stats.refused += 1
                    self._row(
                        href[:2000],
                        "refused",
                        depth + 1,
                        error=RefusedURL(f"{exc} (linked from {url})", exc.reason),
                    )
            self.stats.queued = len(frontier)
            self.on_progress(self.stats)

    def _visit(self, url: str, depth: int) -> tuple[list[str], BadLinks]:
        """Fetch one URL and log its outcome; returns its links and its malformed links."""
        known = self.known.get(url)
        etag, modified = (known.etag, known.last_modified) if known else (None, None)
        conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
        try:
            self.robots.check(url)
            result = self.fetcher.get(url, conditional, permit=self.robots.check)
        except Disallowed as exc:  # robots.txt of the URL or of a redirect target
            self.stats.disallowed += 1
            self._row(url, "disallowed", depth, error=exc)
            return [], []
        except RefusedURL as exc:
            self.stats.refused += 1
            self._row(url, "refused", depth, error=exc)
            return [], []
        except PermanentFetchError as exc:
            outcome = "skipped" if exc.reason in SKIP_REASONS else "failed"
            setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
            self._row(url, outcome, depth, error=exc)
            return [], []
        except FetchError as exc:
            self.stats.failed += 1
            self._row(url, "failed", depth, error=exc)
            return [], []
        if result.unchanged:
            self.stats.unchanged += 1
            etag, modified = result.etag or etag, result.last_modified or modified
            warc_file = known.warc_file if known else None
            self._row(
                url, "unchanged", depth, result=result, etag=etag, last_modified=modified, warc_file=warc_file
            )
            stored = self.stored.body(warc_file, url) if depth < self.cfg.max_depth else None
            return _links(*stored, url) if stored else ([], [])  # the links of the unchanged copy
        try:
            warc_name = self.sink.write(result)
        except (ValueError, UnicodeError) as exc:  # a response warcio cannot write: nothing was written
            self.stats.failed += 1
            self._row(url, "failed", depth, result=result, error=PermanentFetchError(str(exc), "bad_record"))
            return [], []
        self.stats.stored += 1
        self.stats.bytes += len(result.body)
        self._row(url, "stored", depth, result=result, bytes=len(result.body), warc_file=warc_name)
        if depth >= self.cfg.max_depth or result.content_type == "text/plain":
            return [], []
        return _links(result.body, result.charset, result.final_url)


def _links(body: bytes, charset: str | None, url: str) -> tuple[list[str], BadLinks]:
    bad: BadLinks = []
    return page_links(body, url, bad, charset), bad


def host_folder(host: str) -> str:
    """A raw/ folder name for host[:port] that cannot escape raw/."""
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host).strip("._")
    return safe or "host"


def group_by_host(urls: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for u in urls:
        groups.setdefault(host_key(u), []).append(u)
    return groups
