"""Reading the published datasets back, with the dtypes analysts expect. Touches disk (reads only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.schemas import DATASETS
from pipeline.store.parquet import current_run


def published_version(out: Path) -> Path:
    """The folder of the version published now, resolved once: reading several datasets from it
    gives one run's tables even if a run publishes meanwhile (it stays on disk for the grace period
    after that). `out` itself when it holds no published version."""
    return current_run(out) or out


def read_dataset(out: Path, name: str, version: Path | None = None) -> pd.DataFrame:
    """One dataset (of `version`, else of the version published now) as a DataFrame with Arrow-backed
    dtypes: dates are date32, strings are strings, nulls are nulls (no object columns)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    path = (version or published_version(out)) / name
    if not path.exists():
        raise FileNotFoundError(f"{out / name} does not exist: run `sitesift run --out {out}` first")
    return pd.read_parquet(path, dtype_backend="pyarrow")


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
