"""Parsing on several processes with a per-page time limit (pebble kills a worker whose page runs
over, e.g. trafilatura stuck on pathological HTML, and starts a fresh one). Touches processes only."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from pipeline.config import PipelineConfig
from pipeline.run import parse_for_state
from pipeline.acquire.load import stub_page
from pipeline.records import Page, ParsedPage, RawInput, Skipped

MAX_TASKS_PER_WORKER = 2000  # a fresh worker now and then keeps parser memory from creeping up


def _parse_one(raw: RawInput, cfg: PipelineConfig) -> tuple[list[ParsedPage], list[tuple[Page, Skipped]]]:
    return parse_for_state([raw], cfg)


class ParsePool:
    """`with ParsePool(workers=2) as pool: pool.parse(inputs, cfg)`; workers=0 parses in this process
    (no time limit then: nothing could stop a stuck parser without a process to kill)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPool | None = None

    def __enter__(self) -> ParsePool:
        if self.workers > 0:
            # forkserver: children never inherit the threads of a running Prefect client
            self._pool = ProcessPool(max_workers=self.workers, max_tasks=MAX_TASKS_PER_WORKER,
                                     context=multiprocessing.get_context("forkserver"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.stop() if exc[0] else self._pool.close()
            self._pool.join()
            self._pool = None

    def parse(self, inputs: list[RawInput], cfg: PipelineConfig) -> tuple[list[ParsedPage], list[tuple[Page, Skipped]]]:
        if self._pool is None:
            return parse_for_state(inputs, cfg)
        limit = cfg.extract.page_timeout
        futures = [self._pool.schedule(_parse_one, args=(raw, cfg), timeout=limit) for raw in inputs]
        parsed: list[ParsedPage] = []
        failed: list[tuple[Page, Skipped]] = []
        for raw, future in zip(inputs, futures):
            try:
                got, bad = future.result()
            except FutureTimeout:
                got, bad = [], [(stub_page(raw), Skipped(raw.site_hint, raw.source, "timeout",
                                                     f"parsing took more than {limit:g} s"))]
            except ProcessExpired as exc:
                got, bad = [], [(stub_page(raw), Skipped(raw.site_hint, raw.source, "worker_crashed",
                                                     f"the parsing process died: {exc}"))]
            parsed += got
            failed += bad
        return parsed, failed

    def build_site(self, job):
        """One site's build on a worker process (no time limit: a site is as long as it is)."""
        from pipeline.incremental import build_site_job

        if self._pool is None:
            return build_site_job(job)
        return self._pool.schedule(build_site_job, args=(job,)).result()


def build_all_sites(run, pool: ParsePool) -> None:
    """Build every site of the run: in this process when at most one site needs re-learning (its
    parsed pages are still in memory), else the re-learned sites side by side on the worker processes."""
    jobs = [run.job(site) for site in run.sites()]
    heavy = [j for j in jobs if not j.reuse]
    if pool.workers < 2 or len(heavy) < 2:
        for job in jobs:
            run.build(job.site)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=pool.workers) as threads:  # threads only wait on the processes
        built = list(threads.map(pool.build_site, jobs))
    for b in built:
        run.merge(b)
