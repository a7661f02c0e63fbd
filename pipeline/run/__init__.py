"""The run: raw/ in, a new published version of the datasets out, doing only what changed since the
last run. The steps, one module each (docs/architecture.md draws them):

    plan       plan.py, previous.py   what changed since the last run, folder by folder
    parse      parse.py, folders.py   new and changed pages parsed (pool.py: worker processes),
                                      each folder's page state written
    sites      sites.py, append.py    per site: reuse last run's files, append new pages, or re-learn
    dedup      dedup.py               document near-duplicates across sites
    publish    publish.py             summary, skipped inputs and state; one switch to the new version

`run_incremental` below is the whole run; the Prefect flow `process` runs the same steps as tasks.
Touches disk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.locks import RunLock
from pipeline.memory import arrow_returns_memory
from pipeline.run.dedup import near_duplicates
from pipeline.run.executor import open_executor
from pipeline.run.folders import FolderHook, parse_folders
from pipeline.run.previous import PreviousRun
from pipeline.run.publish import publish, run_summary
from pipeline.run.sites import build_sites, plan_sites
from pipeline.store.parquet import Staging


def run_incremental(
    raw: Path,
    out: Path,
    cfg: PipelineConfig | None = None,
    workers: int = 0,
    limits: ResourceLimits | None = None,
    on_folder: FolderHook | None = None,
    dask_address: str | None = None,
) -> dict:
    """The whole run without Prefect (scripts, notebooks, tests, benchmarks); returns its summary.
    workers > 0 parses on that many processes, with the per-page time limit, and re-learns sites side
    by side on them; `dask_address` (tcp://host:port of a scheduler) does both on that cluster."""
    cfg, limits = cfg or PipelineConfig(), limits or ResourceLimits()
    check_raw(raw)
    arrow_returns_memory()
    with RunLock(out), open_executor(workers, limits, dask_address) as pool:
        staging, now = Staging(out, cfg), dt.datetime.now(dt.UTC)
        previous = PreviousRun.read(staging, cfg)
        folders = parse_folders(
            raw, staging, previous, cfg, limits, lambda batch: pool.submit(batch, cfg), on_folder
        )
        built = build_sites(
            plan_sites(folders, previous, staging.view(), cfg, limits, now, staging.run_id), pool
        )
        dups = near_duplicates(built, staging, cfg, staging.run_id)
        return publish(staging, folders, run_summary(folders, built, dups), cfg, now)


def check_raw(raw: Path) -> None:
    """A missing raw folder is an error, not an empty run."""
    if not raw.is_dir():
        raise FileNotFoundError(f"raw folder {raw} does not exist")
