"""Parquet output with explicit schemas, published atomically. Touches disk.

Layout: every run writes a complete new version under <out>/_runs/<run_id>/, then each dataset name
(<out>/documents, blocks, boilerplate, skipped) is a symlink switched to it with os.replace, an atomic
rename. A run that dies before that leaves the previous version untouched and readable; pyarrow,
pandas and DuckDB ignore the underscore-prefixed _runs folder when reading <out> as a whole.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PIPELINE_VERSION
from pipeline.config import PipelineConfig
from pipeline.records import DATASETS, SCHEMA_VERSION

RUNS_DIR = "_runs"
KEEP_RUNS = 2  # the current version and the one before it (a reader may still be listing it)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def site_file_name(site: str) -> str:
    """A file name for a site that cannot escape its folder."""
    name = _SAFE.sub("_", site).strip("._") or "site"
    return f"{name}.parquet"


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def file_metadata(cfg: PipelineConfig, dataset: str) -> dict[bytes, bytes]:
    return {
        b"sitesift.dataset": dataset.encode(),
        b"sitesift.schema_version": SCHEMA_VERSION.encode(),
        b"sitesift.pipeline_version": PIPELINE_VERSION.encode(),
        b"sitesift.config_fingerprint": cfg.fingerprint().encode(),
        b"sitesift.config": json.dumps(cfg.to_dict(), sort_keys=True).encode(),
    }


def _write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_stale(out: Path) -> None:
    """Remove half-written staging folders left by runs that died."""
    runs = out / RUNS_DIR
    if runs.is_dir():
        for p in runs.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                shutil.rmtree(p, ignore_errors=True)


def publish(out: Path, files: dict[str, dict[str, pa.Table]], cfg: PipelineConfig, extra: dict | None = None) -> Path:
    """Write {dataset: {file name: table}} as a new version and switch the dataset links to it.
    Every dataset gets at least one (possibly empty) file so readers never meet an empty folder."""
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    run_id = new_run_id()
    runs = out / RUNS_DIR
    runs.mkdir(exist_ok=True)
    staging = runs / f".{run_id}.tmp"
    staging.mkdir()
    for dataset, schema in DATASETS.items():
        folder = staging / dataset
        folder.mkdir()
        tables = files.get(dataset) or {"empty.parquet": schema.empty_table()}
        meta = file_metadata(cfg, dataset)
        for name, table in sorted(tables.items()):
            table = table.cast(schema).replace_schema_metadata(meta)
            _write_table(table, folder / name)
        _fsync_dir(folder)
    if extra is not None:
        (staging / "run.json").write_text(json.dumps({"run_id": run_id, **extra}, indent=2, default=str))
    final = runs / run_id
    os.rename(staging, final)
    _fsync_dir(runs)
    for dataset in DATASETS:
        _switch_link(out, dataset, run_id)
    _fsync_dir(out)
    _prune(out)
    return final


def _switch_link(out: Path, dataset: str, run_id: str) -> None:
    link = out / dataset
    if link.exists() and not link.is_symlink():
        # a plain folder from elsewhere: keep it as an old version rather than deleting data
        os.rename(link, out / RUNS_DIR / f"preexisting-{dataset}-{run_id}")
    tmp = out / f".{dataset}.{run_id}.link"
    os.symlink(os.path.join(RUNS_DIR, run_id, dataset), tmp)
    os.replace(tmp, link)


def current_run(out: Path) -> Path | None:
    link = out / "documents"
    if not link.is_symlink():
        return None
    return (out / os.readlink(link)).parent.resolve()


def _prune(out: Path) -> None:
    runs = sorted(p for p in (out / RUNS_DIR).iterdir() if not p.name.startswith((".", "preexisting-")))
    current = current_run(out)
    for old in runs[:-KEEP_RUNS]:
        if current is None or old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
