"""Crawling one host: robots.txt, sitemaps and feeds, then breadth-first link following within scope,
one polite request at a time, every outcome logged and every stored page written to WARC.
Touches network and disk (through the WARC sink and log writer it is given)."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from pipeline.acquire.discover import Robots, page_links, parse_feed, parse_sitemap
from pipeline.acquire.errors import FetchError, PermanentFetchError, RefusedURL
from pipeline.acquire.fetch import FetchResult, HostGate, fetch, make_client
from pipeline.acquire.urls import Scope, host_key, normalise
from pipeline.acquire.warc_writer import WarcSink
from pipeline.config import CrawlConfig
from pipeline.store.crawl_log import CrawlLogRow, CrawlLogWriter, KnownPage

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

    @property
    def done(self) -> int:
        return self.stored + self.unchanged + self.failed + self.skipped + self.refused + self.disallowed


ProgressCallback = Callable[[HostStats], None]


class HostCrawler:
    def __init__(
        self,
        host: str,
        cfg: CrawlConfig,
        crawl_id: str,
        sink: WarcSink,
        log: CrawlLogWriter,
        known: dict[str, KnownPage],
        on_progress: ProgressCallback | None = None,
    ):
        self.host, self.cfg, self.crawl_id = host, cfg, crawl_id
        self.sink, self.log, self.known = sink, log, known
        self.on_progress = on_progress or (lambda stats: None)
        self.stats = HostStats(host)
        self.scope = Scope({host}, cfg.include, cfg.exclude)
        self.gate = HostGate(cfg.min_delay)
        self.robots = Robots(None, cfg.user_agent)
        # robots.txt, sitemaps and feeds are fetched with the same guards but other media types
        self.discovery_cfg = CrawlConfig(**{**cfg.__dict__, "stored_types": DISCOVERY_TYPES})

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
            if error.reason.startswith("http_"):
                row.status = int(error.reason[5:])
                self.stats.statuses[row.status] += 1
            self.stats.reasons[error.reason] += 1
        self.stats.retries += row.retries
        self.log.add(row)

    # -- discovery ---------------------------------------------------------------------------------
    def _get(self, client: httpx.Client, url: str) -> FetchResult | None:
        """Fetch a robots.txt, sitemap or feed: logged as discovery, never stored as a page."""
        try:
            result = fetch(client, url, self.discovery_cfg, self.gate)
        except FetchError as exc:
            self._row(url, "discovery", 0, error=exc)
            return None
        self._row(url, "discovery", 0, result=result, bytes=len(result.body))
        return result

    def _load_robots(self, client: httpx.Client, base: str) -> None:
        if not self.cfg.obey_robots:
            return
        url = normalise("/robots.txt", base=base)
        try:
            result = fetch(client, url, self.discovery_cfg, self.gate)
            body = result.body.decode("utf-8", "replace") if result.status == 200 else None
            self._row(url, "discovery", 0, result=result, bytes=len(result.body))
        except PermanentFetchError as exc:  # 4xx or not text: no rules (RFC 9309 2.3.1.3)
            body = None
            self._row(url, "discovery", 0, error=exc)
        except FetchError as exc:  # unreachable after retries: assume complete disallow (RFC 9309 2.3.1.4)
            self._row(url, "discovery", 0, error=exc)
            body = "User-agent: *\nDisallow: /\n"
        self.robots = Robots(body, self.cfg.user_agent)
        delay = self.robots.crawl_delay()
        if delay is not None and delay > self.gate.delay:
            self.gate.set_delay(delay)

    def _from_sitemaps(self, client: httpx.Client, sitemaps: list[str]) -> list[str]:
        pages: list[str] = []
        todo, seen = deque(sitemaps), set()
        while todo and len(seen) < MAX_SITEMAPS:
            url = todo.popleft()
            if url in seen or url not in self.scope:
                continue
            seen.add(url)
            result = self._get(client, url) if self.robots.allowed(url) else None
            if result is not None and result.body:
                found, nested = parse_sitemap(result.body, result.final_url)
                pages.extend(found)
                todo.extend(nested)
        return pages

    def _from_feeds(self, client: httpx.Client, feeds: list[str]) -> list[str]:
        pages: list[str] = []
        for url in feeds:
            if url in self.scope and self.robots.allowed(url):
                result = self._get(client, url)
                if result is not None and result.body:
                    pages.extend(parse_feed(result.body, result.final_url))
        return pages

    # -- the crawl ---------------------------------------------------------------------------------
    def run(self, seeds: list[str], sitemaps: list[str] = (), feeds: list[str] = ()) -> HostStats:
        with make_client(self.cfg) as client:
            base = seeds[0] if seeds else (list(sitemaps) + list(feeds))[0]
            self._load_robots(client, base)
            discovered = self._from_sitemaps(client, list(sitemaps) + self.robots.sitemaps())
            discovered += self._from_feeds(client, list(feeds))
            frontier: deque[tuple[str, int]] = deque()
            seen: set[str] = set()
            starts = [(u, 0) for u in list(seeds) + discovered]
            starts += sorted(((u, k.depth) for u, k in self.known.items()), key=lambda x: (x[1], x[0]))
            for url, depth in starts:
                if url not in seen and url in self.scope:
                    seen.add(url)
                    frontier.append((url, depth))
            while frontier and self.stats.stored + self.stats.unchanged < self.cfg.max_pages:
                url, depth = frontier.popleft()
                self.stats.queued = len(frontier)
                for link in self._visit(client, url, depth):
                    if link not in seen and link in self.scope:
                        seen.add(link)
                        frontier.append((link, depth + 1))
                self.stats.queued = len(frontier)
                self.on_progress(self.stats)
        self.sink.close()
        self.log.flush()
        self.stats.warc_files = [p.name for p in self.sink.files]
        return self.stats

    def _visit(self, client: httpx.Client, url: str, depth: int) -> list[str]:
        if not self.robots.allowed(url):
            self.stats.disallowed += 1
            self._row(url, "disallowed", depth, reason="robots_txt")
            return []
        known = self.known.get(url)
        etag, modified = (known.etag, known.last_modified) if known else (None, None)
        conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
        try:
            result = fetch(client, url, self.cfg, self.gate, conditional)
        except RefusedURL as exc:
            self.stats.refused += 1
            self._row(url, "refused", depth, error=exc)
            return []
        except PermanentFetchError as exc:
            outcome = "skipped" if exc.reason in ("unsupported_type", "too_large") else "failed"
            setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
            self._row(url, outcome, depth, error=exc)
            return []
        except FetchError as exc:
            self.stats.failed += 1
            self._row(url, "failed", depth, error=exc)
            return []
        if result.unchanged:
            self.stats.unchanged += 1
            etag, modified = result.etag or etag, result.last_modified or modified
            self._row(url, "unchanged", depth, result=result, etag=etag, last_modified=modified)
            return []
        warc_name = self.sink.write(result)
        self.stats.stored += 1
        self.stats.bytes += len(result.body)
        self._row(url, "stored", depth, result=result, bytes=len(result.body), warc_file=warc_name)
        if depth >= self.cfg.max_depth or result.content_type == "text/plain":
            return []
        return page_links(result.body, result.final_url)


def host_folder(host: str) -> str:
    """A raw/ folder name for host[:port] that cannot escape raw/."""
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host).strip("._")
    return safe or "host"


def group_by_host(urls: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for u in urls:
        groups.setdefault(host_key(u), []).append(u)
    return groups
