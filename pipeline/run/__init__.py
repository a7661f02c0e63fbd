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
from pipeline.locations import Location, Remote, location
from pipeline.locks import RunLock
from pipeline.memory import arrow_returns_memory
from pipeline.run.dedup import near_duplicates
from pipeline.run.executor import open_executor
from pipeline.run.folders import FolderHook, parse_folders
from pipeline.run.previous import PreviousRun
from pipeline.run.publish import publish, run_summary
from pipeline.run.remote_sites import build_run_sites, sites_on_store
from pipeline.run.sites import plan_sites
from pipeline.store.objstore import RunOutput
from pipeline.store.parquet import Staging


def run_incremental(
    raw: Path | str,
    out: Path | str,
    cfg: PipelineConfig | None = None,
    workers: int = 0,
    limits: ResourceLimits | None = None,
    on_folder: FolderHook | None = None,
    dask_address: str | None = None,
    work: Path | None = None,
) -> dict:
    """The whole run without Prefect (scripts, notebooks, tests, benchmarks); returns its summary.
    `raw` and `out` are folders or fsspec URLs (s3://bucket/raw); a remote `out` is written in the
    local `work` folder first (store/objstore.py). workers > 0 parses on that many processes, with the
    per-page time limit, and re-learns sites side by side on them; `dask_address` (tcp://host:port of
    a scheduler) does both on that cluster."""
    cfg, limits = cfg or PipelineConfig(), limits or ResourceLimits()
    raw_root, output = location(raw), RunOutput.of(location(out), work)
    check_raw(raw_root)
    arrow_returns_memory()
    with RunLock(output.folder), open_executor(workers, limits, dask_address) as pool:
        output.pull()
        staging, now = Staging(output.folder, cfg), dt.datetime.now(dt.UTC)
        previous = PreviousRun.read(staging, cfg)
        folders = parse_folders(
            raw_root, staging, previous, cfg, limits, lambda batch: pool.submit(batch, cfg), on_folder
        )
        jobs = plan_sites(folders, previous, staging.view(), cfg, limits, now, staging.run_id, raw_root)
        on_store = sites_on_store(output, dask_address, staging.run_id)
        built, in_store = build_run_sites(jobs, pool, staging, on_store)
        dups = near_duplicates(built, staging, cfg, staging.run_id)
        summary = publish(staging, folders, run_summary(folders, built, dups), cfg, now)
        output.push(cfg.store.keep_superseded_s, in_store)
        return summary


def check_raw(raw: Location) -> None:
    """A missing raw folder is an error, not an empty run."""
    found = raw.fs().isdir(raw.path) if isinstance(raw, Remote) else raw.is_dir()
    if not found:
        raise FileNotFoundError(f"raw folder {raw} does not exist")
