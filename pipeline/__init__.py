"""sitesift's library: pure, typed stages (acquire -> clean -> store) and the run over them (run/).
Never imports Prefect.

For scripts and notebooks: `from pipeline import run_incremental` (the run the `sitesift run` flow
makes, without Prefect). This module stays light: importing it loads nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from pipeline.config import PipelineConfig, ResourceLimits

from pipeline.config import PIPELINE_VERSION

__all__ = ["PIPELINE_VERSION", "run_incremental"]


def run_incremental(
    raw: Path,
    out: Path,
    cfg: PipelineConfig | None = None,
    workers: int = 0,
    limits: ResourceLimits | None = None,
) -> dict:
    """pipeline.run.run_incremental, with the parser processes' fork server started before the
    pipeline itself is imported: the server's imports (~1 s) then overlap this process's (~0.5 s)."""
    if workers > 0:
        from pipeline.forkserver import start_fork_server

        start_fork_server()
    from pipeline.run import run_incremental as run

    return run(raw, out, cfg, workers, limits)
