"""sitesift's library: pure, typed stages (acquire -> clean -> store) and the run over them (run/).
Never imports Prefect.

For scripts and notebooks: `from pipeline import run_incremental` (the run the `sitesift run` flow
makes, without Prefect) and `read_dataset` / `dataset_url` (the published datasets, local or on
object storage). This module stays light: importing it loads nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    import pandas as pd

    from pipeline.config import PipelineConfig, ResourceLimits

from pipeline.config import PIPELINE_VERSION

__all__ = ["PIPELINE_VERSION", "dataset_url", "read_dataset", "run_incremental"]


def run_incremental(
    raw: Path | str,
    out: Path | str,
    cfg: PipelineConfig | None = None,
    workers: int = 0,
    limits: ResourceLimits | None = None,
    dask_address: str | None = None,
    work: Path | None = None,
) -> dict:
    """pipeline.run.run_incremental, with the parser processes' fork server started before the
    pipeline itself is imported: the server's imports (~1 s) then overlap this process's (~0.5 s)."""
    if workers > 0:
        from pipeline.forkserver import start_fork_server

        start_fork_server()
    from pipeline.run import run_incremental as run

    return run(raw, out, cfg, workers, limits, dask_address=dask_address, work=work)


def read_dataset(
    out: Path | str, name: str, columns: list[str] | None = None, filters: Any = None
) -> pd.DataFrame:
    """The current version of one dataset (`documents`, `blocks`, ...) of a local or remote output as a
    pandas DataFrame with Arrow dtypes; `columns` and `filters` are pyarrow's."""
    from pipeline.store.read import read_dataset as read

    return read(out, name, columns=columns, filters=filters)


def dataset_url(out: Path | str, name: str) -> str:
    """The folder or URL of a dataset's current version, for DuckDB, polars and other readers."""
    from pipeline.store.read import dataset_url as url

    return url(out, name)
