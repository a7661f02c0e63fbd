"""Prefect flow `crawl`: fetch whole sites politely into raw/<host>/ as WARC, with a crawl log.

One task per host (one request at a time per host is the crawler's own rule); hosts run side by side
on a bounded thread pool. Only wiring: the crawling is pipeline.acquire.crawler.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.progress import RunProgress
from pipeline.acquire.crawler import HostCrawler, HostStats, group_by_host, host_folder
from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.urls import normalise
from pipeline.acquire.warc_writer import WarcSink, salvage_partials
from pipeline.config import CrawlConfig
from pipeline.store.crawl_log import CrawlLogWriter, known_pages
from pipeline.store.parquet import new_run_id

MAX_PARALLEL_HOSTS = 8


class HostProgress:
    """One host's stage of the crawl's progress: done of the URLs known so far (the frontier grows as
    pages are read), capped by the max-pages budget; the bar says what was fetched."""

    def __init__(self, host: str, run: RunProgress, budget: int):
        self.host, self.budget = host, budget
        self.stage = run.stage(host, total=None)

    def __call__(self, stats: HostStats) -> None:
        self.stage.rename(
            f"{self.host}: fetched {stats.stored + stats.unchanged}, queued {stats.queued}, "
            f"failed {stats.failed + stats.refused}"
        )
        self.stage.set(stats.done, min(self.budget, stats.done + stats.queued))


@task(name="crawl-host", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def crawl_host(
    host: str,
    seeds: list[str],
    sitemaps: list[str],
    feeds: list[str],
    raw: Path,
    out: Path,
    crawl_id: str,
    cfg: CrawlConfig,
    run: RunProgress,
) -> HostStats:
    folder = raw / host_folder(host)
    salvaged = salvage_partials(folder)
    if salvaged:
        get_run_logger().warning(
            "salvaged %d partial WARC file(s) of an interrupted crawl in %s", len(salvaged), folder
        )
    sink = WarcSink(folder, crawl_id, cfg.warc_records_per_file)
    log = CrawlLogWriter(out / "crawl_log", crawl_id, host_folder(host))
    progress = HostProgress(host, run, cfg.max_pages)
    crawler = HostCrawler(
        host, cfg, crawl_id, sink, log, known_pages(out / "crawl_log", host), on_progress=progress
    )
    stats = crawler.run(seeds, sitemaps, feeds)
    progress.stage.finish()
    return stats


def summary_rows(stats: list[HostStats]) -> list[dict]:
    return [
        {
            "host": s.host,
            "stored": s.stored,
            "unchanged (304)": s.unchanged,
            "skipped": s.skipped,
            "failed": s.failed,
            "refused": s.refused,
            "disallowed": s.disallowed,
            "bytes": s.bytes,
            "retries": s.retries,
            "status codes": ", ".join(f"{k}: {v}" for k, v in sorted(s.statuses.items())),
            "reasons": ", ".join(f"{k}: {v}" for k, v in sorted(s.reasons.items())),
            "warc files": len(s.warc_files),
        }
        for s in stats
    ]


def normalise_all(urls: list[str]) -> list[str]:
    """Normalised URLs; a non-http(s) URL raises RefusedURL with a clear message."""
    return [normalise(u) for u in urls]


@flow(name="crawl", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_HOSTS))
def crawl(
    urls: list[str],
    sitemaps: list[str] | None = None,
    feeds: list[str] | None = None,
    raw: str = "raw",
    out: str = "processed",
    max_pages: int = 500,
    max_depth: int = 5,
    delay: float = 1.0,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    user_agent: str | None = None,
    allow_hosts: list[str] | None = None,
    process_after: bool = False,
    min_pages: int = 3,
) -> list[dict]:
    """Crawl the hosts of `urls` (plus sitemap and feed URLs) into raw/<host>/*.warc.gz; returns a
    summary row per host. Refuses non-http(s) URLs before starting. With `process_after`, the
    `process` flow then runs as a subflow over raw/ (how the nightly deployment processes each crawl)."""
    logger = get_run_logger()
    seeds, maps, feed_urls = normalise_all(urls), normalise_all(sitemaps or []), normalise_all(feeds or [])
    base = CrawlConfig()
    cfg = CrawlConfig(
        **{
            **base.__dict__,
            "max_pages": max_pages,
            "max_depth": max_depth,
            "min_delay": delay,
            "include": tuple(include or ()),
            "exclude": tuple(exclude or ()),
            "user_agent": user_agent or base.user_agent,
            "allow_hosts": tuple(allow_hosts or ()),
        }
    )
    crawl_id = new_run_id()
    by_host = group_by_host(seeds + maps + feed_urls)
    run = RunProgress(sorted(by_host), description="pages crawled")
    run.start()
    futures = []
    for host in sorted(by_host):
        host_seeds = [u for u in seeds if u in by_host[host]]
        host_maps = [u for u in maps if u in by_host[host]]
        host_feeds = [u for u in feed_urls if u in by_host[host]]
        futures.append(
            crawl_host.submit(
                host, host_seeds, host_maps, host_feeds, Path(raw), Path(out), crawl_id, cfg, run
            )
        )
    stats = [f.result() for f in futures]
    rows = summary_rows(stats)
    create_table_artifact(rows, key="sitesift-crawl-summary", description=f"crawl {crawl_id}")
    logger.info(
        "crawl %s done: %d stored, %d unchanged, %d failed",
        crawl_id,
        sum(s.stored for s in stats),
        sum(s.unchanged for s in stats),
        sum(s.failed for s in stats),
    )
    if process_after:
        from flows.process import process

        process(raw=raw, out=out, min_pages=min_pages)
    return rows


__all__ = ["crawl", "RefusedURL"]
