"""Where a run's heavy work goes, chosen once: the local parser processes (ParsePool) or a Dask
cluster (DaskPool). Both take the same calls, so plan, parse, sites and publish have one path.
Touches processes or the network, through the executor chosen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.records import RawInput
from pipeline.store.state import ParsedTables

T = TypeVar("T")


class Executor(Protocol):
    """Parses page chunks (`submit`) and builds sites (`call`) somewhere; `cancel` stops both."""

    @property
    def workers(self) -> int: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc) -> None: ...

    def builds_here(self, heavy: int) -> bool:
        """Whether `heavy` sites to re-learn are better built in this process than sent out."""
        ...

    def stop_workers(self) -> None: ...

    def cancel(self) -> None: ...

    def parse(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> ParsedTables: ...

    def submit(
        self, inputs: list[RawInput], cfg: PipelineConfig, on_parsed: Callable[[int], None] | None = None
    ) -> Callable[[], ParsedTables]: ...

    def call(self, fn: Callable[..., T], *args: object) -> T: ...


def open_executor(workers: int, limits: ResourceLimits, dask_address: str | None = None) -> Executor:
    """A Dask cluster's workers when an address is given (`workers` is then unused), else `workers`
    local parser processes (0: this process)."""
    if dask_address:
        from pipeline.run.dask_pool import DaskPool

        return DaskPool(dask_address, limits)
    from pipeline.run.pool import ParsePool

    return ParsePool(workers, limits)
