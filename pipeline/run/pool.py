"""Parsing on several processes with a per-page time limit (pebble kills a worker whose page runs
over, e.g. trafilatura stuck on pathological HTML, and starts a fresh one). Touches processes only."""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from pipeline.acquire.load import stub_page
from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.forkserver import start_fork_server
from pipeline.records import RawInput, Skipped
from pipeline.run.pages import parse_to_tables
from pipeline.store.state import ParsedTables

# what this process imports anyway during a run (pyarrow imports pandas at the first array it makes
# from Python objects; pyarrow.dataset at the first read_table): ~0.4 s, done while the fork server starts
RUN_IMPORTS = ["pandas", "pyarrow.dataset"]
T = TypeVar("T")


class ParsePool:
    """`with ParsePool(workers=2) as pool: pool.parse(inputs, cfg)`; workers=0 parses in this process
    (no time limit then: nothing could stop a stuck parser without a process to kill)."""

    def __init__(self, workers: int, limits: ResourceLimits | None = None):
        self.workers = workers
        self.limits = limits or ResourceLimits()
        self._pool: ProcessPool | None = None

    def __enter__(self) -> ParsePool:
        if self.workers > 0:
            # forkserver: children never inherit the threads of a running Prefect client
            start_fork_server()
            # the first worker waits for the server's imports, and this process waits for the worker
            threading.Thread(
                target=lambda: [importlib.import_module(m) for m in RUN_IMPORTS],
                daemon=True,
                name="sitesift-imports",
            ).start()
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPool(
                max_workers=self.workers, max_tasks=self.limits.max_tasks_per_worker, context=context
            )
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.stop() if exc[0] else self._pool.close()
            self._pool.join()
            self._pool = None

    def parse(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> ParsedTables:
        """Pages go to the workers `limits.batch_pages` at a time (one task per page cost more than parsing an
        unsampled page); a batch has the per-page time limit as its deadline, and one that misses it
        is parsed again a page per task, so only the page that is really slow is skipped.
        `on_parsed(n)` hears of every batch done (progress)."""
        return self.submit(inputs, cfg, on_parsed)()

    def submit(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> Callable[[], ParsedTables]:
        """`parse` in two steps: the pages are queued for the workers now, and the returned function
        waits for their tables. Queueing the next folder's pages before this one's last batches are
        done keeps both workers busy across folder boundaries. Without workers, parses at once."""
        if self._pool is None:
            parsed = parse_to_tables(inputs, cfg)
            if on_parsed:
                on_parsed(len(inputs))
            return lambda: parsed
        size = self.limits.batch_pages
        batches = [inputs[i : i + size] for i in range(0, len(inputs), size)]
        futures = [self._schedule(batch, cfg) for batch in batches]

        def tables() -> ParsedTables:
            parts: list[ParsedTables] = []
            for batch, future in zip(batches, futures):
                got = self._result(batch, future, cfg)
                if got is None:  # the batch missed its deadline or lost its worker: page by page
                    got = ParsedTables.concat(
                        [self._result([raw], self._schedule([raw], cfg), cfg) for raw in batch]
                    )
                parts.append(got)
                if on_parsed:
                    on_parsed(len(batch))
            return ParsedTables.concat(parts)

        return tables

    def _schedule(self, batch: list[RawInput], cfg: PipelineConfig):
        return self._pool.schedule(parse_to_tables, args=(batch, cfg), timeout=cfg.extract.page_timeout)

    @staticmethod
    def _result(batch: list[RawInput], future, cfg: PipelineConfig) -> ParsedTables | None:
        """The tables of a finished task; None when a batch of several failed as a whole."""
        limit = cfg.extract.page_timeout
        try:
            return future.result()
        except FutureTimeout:
            if len(batch) > 1:
                return None
            raw = batch[0]
            return ParsedTables.of(
                [],
                [
                    (
                        stub_page(raw),
                        Skipped(raw.site_hint, raw.source, "timeout", f"parsing took more than {limit:g} s"),
                    )
                ],
            )
        except ProcessExpired as exc:
            if len(batch) > 1:
                return None
            raw = batch[0]
            return ParsedTables.of(
                [],
                [
                    (
                        stub_page(raw),
                        Skipped(
                            raw.site_hint, raw.source, "worker_crashed", f"the parsing process died: {exc}"
                        ),
                    )
                ],
            )

    def stop_workers(self) -> None:
        """End the worker processes now (parsing is over and what is left runs here): their memory is
        given back before a large site is built in this process."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on a worker process, without a time limit (a site takes as long as it takes);
        in this process when there are no workers."""
        if self._pool is None:
            return fn(*args)
        return self._pool.schedule(fn, args=args).result()
