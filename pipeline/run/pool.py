"""Parsing on several processes with a per-page time limit (pebble kills a worker whose page runs
over, e.g. trafilatura stuck on pathological HTML, and starts a fresh one). Touches processes only."""

from __future__ import annotations

import importlib
import multiprocessing
import signal
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from typing import ClassVar, TypeVar

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
    (no time limit then: nothing could stop a stuck parser without a process to kill).
    Leaving the block on an exception, or `cancel()`, ends the workers and makes every result still
    awaited raise CancelledError: no thread is left waiting on a worker that is gone."""

    _open: ClassVar[weakref.WeakSet[ParsePool]] = weakref.WeakSet()  # for cancel_all (signal handlers)

    def __init__(self, workers: int, limits: ResourceLimits | None = None):
        self.workers = workers
        self.limits = limits or ResourceLimits()
        self._pool: ProcessPool | None = None
        self._awaited: set = set()  # futures scheduled and not done yet
        self._guard = threading.RLock()  # re-entrant: cancel() may run in a signal handler
        self._cancelled = False

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
                max_workers=self.workers,
                max_tasks=self.limits.max_tasks_per_worker,
                context=context,
                initializer=ParsePool._worker_started,
            )
        ParsePool._open.add(self)
        return self

    def __exit__(self, *exc) -> None:
        ParsePool._open.discard(self)
        if exc[0] is not None:
            self.cancel()
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    @staticmethod
    def _worker_started() -> None:
        """Ctrl-C in a terminal reaches every process of its group: a worker leaves it to the main
        process, which ends the workers (no traceback of each worker on the terminal)."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def cancel(self) -> None:
        """Stop now: no new task, the workers ended, every awaited result raises CancelledError.
        Safe from a signal handler and from any thread."""
        with self._guard:
            self._cancelled = True
            awaited, self._awaited = list(self._awaited), set()
            if self._pool is not None:
                self._pool.stop()
        for future in awaited:
            future.cancel()

    @classmethod
    def cancel_all(cls) -> None:
        """cancel() every pool that is open in this process (a signal handler cannot reach them)."""
        for pool in list(cls._open):
            pool.cancel()

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
        if self._cancelled:
            raise CancelledError("the parser processes were stopped")
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
                    singles = [self._result([raw], self._schedule([raw], cfg), cfg) for raw in batch]
                    got = ParsedTables.concat([t for t in singles if t is not None])  # one page: never None
                parts.append(got)
                if on_parsed:
                    on_parsed(len(batch))
            return ParsedTables.concat(parts)

        return tables

    def _schedule(self, batch: list[RawInput], cfg: PipelineConfig):
        return self._submit(parse_to_tables, (batch, cfg), cfg.extract.page_timeout)

    def _submit(self, fn: Callable, args: tuple, timeout: float | None = None):
        """A task for the workers, remembered until done so that cancel() can release its waiter."""
        with self._guard:
            if self._cancelled or self._pool is None:
                raise CancelledError("the parser processes were stopped")
            future = self._pool.schedule(fn, args=args, timeout=timeout)
            self._awaited.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future) -> None:
        with self._guard:
            self._awaited.discard(future)

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

    def builds_here(self, heavy: int) -> bool:
        """With fewer than two workers or two sites to re-learn, sites are built in this process (the
        workers ended first, so their memory is back before a large site is learned here)."""
        return self.workers < 2 or heavy < 2

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
        return self._submit(fn, args).result()
