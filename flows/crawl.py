"""Prefect flow `crawl`: fetch whole sites politely into raw/<host>/ as WARC, with a crawl log.

One task per host (one request at a time per host is the crawler's own rule); hosts run side by side
on a bounded thread pool. Only wiring: the crawling is pipeline.acquire.crawler. The flow holds each
host's crawl lock for the whole crawl, fails when no seed could be fetched, and on Ctrl-C / SIGTERM
lets every host close its WARC file and crawl log before the signal takes its usual course.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows.progress import RunProgress
from pipeline.acquire.crawler import HostCrawler, HostStats, group_by_host, host_folder
from pipeline.acquire.errors import CrawlFailed, RefusedURL
from pipeline.acquire.host_lock import HostLock, HostLocked
from pipeline.acquire.urls import normalise
from pipeline.acquire.warc_writer import WarcSink, salvage_partials
from pipeline.config import CrawlConfig
from pipeline.store.crawl_log import CrawlLogWriter, known_pages, salvage_journals
from pipeline.store.parquet import new_run_id

MAX_PARALLEL_HOSTS = 8
SHOWN_SEED_ERRORS = 3  # seeds named in the one-line failure message


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


@task(name="crawl-host", retries=0, cache_policy=NO_CACHE)  # a retry would crawl the whole host again
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
    stop: threading.Event,
) -> HostStats:
    """Crawl one host; the caller holds its crawl lock, so what a killed crawl left is ours to salvage."""
    folder, slug, log_dir = raw / host_folder(host), host_folder(host), out / "crawl_log"
    salvaged, rows = salvage_partials(folder), salvage_journals(log_dir, slug)
    if salvaged or rows:
        get_run_logger().warning(
            "%s: salvaged %d partial WARC file(s) and %d crawl-log row(s) of an interrupted crawl",
            host,
            len(salvaged),
            rows,
        )
    progress = HostProgress(host, run, cfg.max_pages)
    crawler = HostCrawler(
        host,
        cfg,
        crawl_id,
        WarcSink(folder, crawl_id, cfg.warc_records_per_file),
        CrawlLogWriter(log_dir, crawl_id, slug),
        known_pages(log_dir, host),
        on_progress=progress,
        stop=stop,
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
            "seeds failed": f"{len(s.seed_errors)} of {s.seeds}",
        }
        for s in stats
    ]


def seed_failures(stats: list[HostStats]) -> tuple[int, list[str]]:
    """(number of seeds, one 'URL why' line per seed that could not be fetched)."""
    return sum(s.seeds for s in stats), [f"{u} {why}" for s in stats for u, why in s.seed_errors.items()]


def failure_line(failed: list[str]) -> str:
    shown = "; ".join(failed[:SHOWN_SEED_ERRORS])
    more = f"; and {len(failed) - SHOWN_SEED_ERRORS} more" if len(failed) > SHOWN_SEED_ERRORS else ""
    return f"no seed could be fetched: {shown}{more}"


def normalise_all(urls: list[str]) -> list[str]:
    """Normalised URLs; a non-http(s) URL raises RefusedURL with a clear message."""
    return [normalise(u) for u in urls]


def _pass_on(signum: int, handler) -> None:
    """Do what the handler that was there before would do with signum, but let the program unwind:
    SIG_DFL for SIGTERM would end the process on the spot, leaving Prefect's server process behind."""
    if callable(handler):
        handler(signum, None)  # Python's SIGINT handler raises KeyboardInterrupt; Prefect's its own
    elif handler == signal.SIG_DFL:
        raise SystemExit(128 + signum)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """While inside: the first SIGINT or SIGTERM sets `stop` (every host then closes its files and
    returns), a second one goes on at once to the handler that was there before (forces). On the way
    out, a caught signal goes on to that handler, so Ctrl-C still ends the program as Ctrl-C does.
    Outside the main thread (a worker's thread) signals cannot be caught here: nothing changes."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum, frame):
        if caught:
            _pass_on(signum, previous[signum])
            return
        caught.append(signum)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield caught
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if caught:
        _pass_on(caught[0], previous[caught[0]])


def failed(exc: Exception) -> State:
    """The flow's Failed state, its message the one-line reason (no traceback in the log); calling the
    flow raises `exc`."""
    return Failed(message=str(exc), data=exc)


def _host_result(future, host: str, seeds: list[str]) -> HostStats:
    """A host task's stats; a task that raised (a bug, not a bad page) counts as a host whose seeds
    all failed, and the other hosts' results still count."""
    result = future.result(raise_on_failure=False)
    if isinstance(result, HostStats):
        return result
    why = f"crawl of {host} failed: {type(result).__name__}: {result}"
    return HostStats(host, seeds=len(seeds), seed_errors=dict.fromkeys(seeds, why))


@flow(name="crawl", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_HOSTS))  # type: ignore[arg-type]
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
) -> list[dict] | State:
    """Crawl the hosts of `urls` (plus sitemap and feed URLs) into raw/<host>/*.warc.gz; returns a
    summary row per host. Refuses non-http(s) URLs before starting. Ends Failed, and a direct call
    raises, with HostLocked when another crawl is crawling one of the hosts and with CrawlFailed
    when no seed could be fetched; neither runs `process`. With `process_after`,
    the `process` flow then runs as a subflow over raw/ (how the nightly deployment processes each
    crawl)."""
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
    stop = threading.Event()
    with contextlib.ExitStack() as locks:
        try:
            for host in sorted(by_host):
                locks.enter_context(HostLock(Path(raw) / host_folder(host), host))
        except HostLocked as exc:
            return failed(exc)
        run = RunProgress(sorted(by_host), description="pages crawled")
        run.start()
        with stop_on_signals(stop):
            futures = []
            for host in sorted(by_host):
                host_seeds = [u for u in seeds if u in by_host[host]]
                host_maps = [u for u in maps if u in by_host[host]]
                host_feeds = [u for u in feed_urls if u in by_host[host]]
                args = (
                    host,
                    host_seeds,
                    host_maps,
                    host_feeds,
                    Path(raw),
                    Path(out),
                    crawl_id,
                    cfg,
                    run,
                    stop,
                )
                futures.append((crawl_host.submit(*args), host, host_seeds + host_maps + host_feeds))
            stats = [_host_result(f, host, host_urls) for f, host, host_urls in futures]
            if stop.is_set():  # asked for by the user: not a warning (the CLI says it in one line)
                logger.info(
                    "crawl %s stopped: %d stored, %d unchanged; its WARC files and crawl log are complete",
                    crawl_id,
                    sum(s.stored for s in stats),
                    sum(s.unchanged for s in stats),
                )
    rows = summary_rows(stats)
    create_table_artifact(rows, key="sitesift-crawl-summary", description=f"crawl {crawl_id}")
    n_seeds, bad_seeds = seed_failures(stats)
    if bad_seeds and len(bad_seeds) == n_seeds and not any(s.fetched for s in stats):
        return failed(CrawlFailed(failure_line(bad_seeds)))
    if bad_seeds:
        logger.warning(
            "%d of %d seeds could not be fetched: %s", len(bad_seeds), n_seeds, "; ".join(bad_seeds[:10])
        )
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


__all__ = ["crawl", "CrawlFailed", "RefusedURL"]
