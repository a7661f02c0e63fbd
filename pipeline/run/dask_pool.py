"""Parsing and site builds on a Dask cluster: the same calls as ParsePool (submit, call, cancel), so
the run picks one executor once and has no second path. Pages go to the workers as bytes and come
back as Arrow state tables; site builds run there too. The cluster is not ours: leaving the block
closes the client, never the workers. Touches the network (the scheduler) only."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any, ClassVar, TypeVar

from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.records import RawInput
from pipeline.run.pages import parse_to_tables
from pipeline.store.state import ParsedTables

T = TypeVar("T")


class DaskPool:
    """`with DaskPool("tcp://scheduler:8786") as pool: pool.parse(inputs, cfg)`. A Dask task cannot be
    killed, so there is no per-page time limit here: a page stuck in the parser holds one worker
    thread until it ends (the local pool's limit applies only to local runs)."""

    _open: ClassVar[weakref.WeakSet[DaskPool]] = weakref.WeakSet()  # for cancel_all (signal handlers)

    def __init__(self, address: str, limits: ResourceLimits | None = None):
        self.address = address
        self.limits = limits or ResourceLimits()
        self._client: Any = None
        self._awaited: set = set()
        self._guard = threading.RLock()
        self._cancelled = False

    def __enter__(self) -> DaskPool:
        from distributed import Client

        self._client = Client(self.address, set_as_default=False)
        DaskPool._open.add(self)
        return self

    def __exit__(self, *exc) -> None:
        DaskPool._open.discard(self)
        if exc[0] is not None:
            self.cancel()
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def workers(self) -> int:
        """Worker threads of the cluster now (at least 1: sites are waited on by that many threads)."""
        return max(1, sum(self._client.nthreads().values())) if self._client is not None else 1

    def builds_here(self, heavy: int) -> bool:
        """Sites are always built on the cluster: the driver only lists, plans and publishes."""
        return False

    def stop_workers(self) -> None:
        """Nothing to stop: the cluster's workers are not this run's."""

    def cancel(self) -> None:
        with self._guard:
            self._cancelled = True
            awaited, self._awaited = list(self._awaited), set()
        if self._client is not None and awaited:
            self._client.cancel(awaited)

    @classmethod
    def cancel_all(cls) -> None:
        """cancel() every pool open in this process: its tasks are cancelled, its waiters released."""
        for pool in list(cls._open):
            pool.cancel()

    def parse(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> ParsedTables:
        return self.submit(inputs, cfg, on_parsed)()

    def submit(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> Callable[[], ParsedTables]:
        """The pages as tasks of `limits.batch_pages` now; the returned function waits for their tables."""
        size = self.limits.batch_pages
        batches = [inputs[i : i + size] for i in range(0, len(inputs), size)]
        futures = [self._submit(parse_to_tables, batch, cfg) for batch in batches]

        def tables() -> ParsedTables:
            parts = []
            for batch, future in zip(batches, futures):
                parts.append(future.result())
                if on_parsed:
                    on_parsed(len(batch))
            return ParsedTables.concat(parts)

        return tables

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on a Dask worker, waited for."""
        return self._submit(fn, *args).result()

    def _submit(self, fn: Callable, *args: object):
        with self._guard:
            if self._cancelled or self._client is None:
                raise CancelledError("the Dask tasks were cancelled")
            future = self._client.submit(fn, *args, pure=False)  # every batch is new work
            self._awaited.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future) -> None:
        with self._guard:
            self._awaited.discard(future)
