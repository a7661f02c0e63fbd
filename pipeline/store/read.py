"""Reading the published datasets back, with the dtypes analysts expect, from a local output folder
or a remote one (the version its `_runs/current` pointer names). Touches disk or the network (reads
only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.locations import Remote, location
from pipeline.schemas import DATASETS
from pipeline.store.objstore import remote_current, version_url
from pipeline.store.parquet import current_run


def published_version(out: Path) -> Path:
    """The folder of the version published now, resolved once: reading several datasets from it
    gives one run's tables even if a run publishes meanwhile (it stays on disk for the grace period
    after that). `out` itself when it holds no published version."""
    return current_run(out) or out


def dataset_url(out: Path | str, name: str) -> str:
    """Where the published version of a dataset is now: a local folder, or a URL on the store (for
    DuckDB, polars, Spark). Resolved once: it keeps naming that version after a later publish."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    where = location(out)
    if isinstance(where, Remote):
        run_id = remote_current(where)
        if run_id is None:
            raise FileNotFoundError(f"{where} has no published version: run `sitesift run --out {where}`")
        return version_url(where, run_id).child(name).url
    path = published_version(where) / name
    if not path.exists():
        raise FileNotFoundError(f"{where / name} does not exist: run `sitesift run --out {where}` first")
    return str(path)


def read_dataset(
    out: Path | str,
    name: str,
    version: Path | None = None,
    columns: list[str] | None = None,
    filters: Any = None,
) -> pd.DataFrame:
    """One dataset of the version published now (or of `version`, a local version folder) as a
    DataFrame with Arrow-backed dtypes: dates are date32, strings are strings, nulls are nulls (no
    object columns). `out` is a folder or a URL (s3://bucket/out); `columns` and `filters` go to
    pyarrow as they are (`filters=[("site", "==", "naht")]`)."""
    url = str(version / name) if version is not None else dataset_url(out, name)
    where = location(url)
    if isinstance(where, Remote):
        return pd.read_parquet(
            where.path, filesystem=where.fs(), dtype_backend="pyarrow", columns=columns, filters=filters
        )
    return pd.read_parquet(where, dtype_backend="pyarrow", columns=columns, filters=filters)


def read_all(out: Path) -> dict[str, pd.DataFrame]:
    """Every dataset, all of one version."""
    version = published_version(out)
    return {name: read_dataset(out, name, version) for name in DATASETS}


def page_view(out: Path, doc_id: str) -> tuple[dict, pd.DataFrame]:
    """One page as the pipeline saw it: its document row and all its blocks in order."""
    version = published_version(out)
    docs = read_dataset(out, "documents", version)
    match = docs[(docs.doc_id == doc_id) | docs.doc_id.str.startswith(doc_id)]
    if len(match) == 0:
        raise KeyError(f"no document with id {doc_id!r} in {out / 'documents'}")
    if len(match) > 1:
        raise KeyError(f"{doc_id!r} is ambiguous: {', '.join(match.doc_id.head(5))}")
    row = match.iloc[0].to_dict()
    blocks = read_dataset(out, "blocks", version)
    return row, blocks[blocks.doc_id == row["doc_id"]].sort_values("position").reset_index(drop=True)


def read_changes(out: Path, since: str | None = None) -> pd.DataFrame:
    """The changes dataset in run order, optionally only the runs after `since` (a run id or a unique
    prefix of one; the runs are ordered by id, which starts with their start time)."""
    changes = read_dataset(out, "changes")
    if since is not None:
        runs = sorted(set(changes.run_id))
        match = [r for r in runs if r.startswith(since)]
        if len(match) != 1:
            known = ", ".join(runs[-5:]) or "none"
            raise KeyError(f"{since!r} names {'no' if not match else 'more than one'} run (latest: {known})")
        changes = changes[changes.run_id > match[0]]
    return changes.sort_values(["run_id", "site", "source"]).reset_index(drop=True)
