"""The changes dataset: which pages a run added, changed, removed or wrote again unchanged, found by
comparing the documents of the last version with the staged ones. Each run adds one file
(`changes/<run_id>.parquet`) and carries the earlier runs' files over, so the history of a dataset
can be read back run by run. Touches disk (the previous and the staged version)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads

from pipeline.schemas import CHANGES_SCHEMA, DOCUMENTS_SCHEMA
from pipeline.store.parquet import Staging

NEW, CHANGED, REMOVED, REWRITTEN = "new", "changed", "removed", "unchanged-but-rewritten"
_COLUMNS = ["doc_id", "site", "url", "source", "content_hash"]


def _documents(version: Path | None, with_run: bool) -> dict[str, dict]:
    files = sorted((version / "documents").glob("*.parquet")) if version is not None else []
    if not files:  # a version without pages
        return {}
    columns = _COLUMNS + (["run_id"] if with_run else [])
    table = pads.dataset(files, format="parquet", schema=DOCUMENTS_SCHEMA).to_table(columns=columns)
    return {r["doc_id"]: r for r in table.to_pylist()}


def record_changes(staging: Staging, now: dt.datetime) -> dict[str, int]:
    """Write this run's changes file, carry the earlier ones over; returns the count of each change."""
    before = _documents(staging.previous, with_run=False)
    after = _documents(staging.dir, with_run=True)
    rows = []
    for doc_id in sorted(set(before) | set(after)):
        old, new = before.get(doc_id), after.get(doc_id)
        if new is None:
            change = REMOVED
        elif old is None:
            change = NEW
        elif old["content_hash"] != new["content_hash"]:
            change = CHANGED
        elif new["run_id"] == staging.run_id:
            change = REWRITTEN
        else:
            continue
        row = new or old
        assert row is not None
        rows.append(
            {
                "run_id": staging.run_id,
                "changed_at": now,
                "doc_id": doc_id,
                "site": row["site"],
                "url": row["url"],
                "source": row["source"],
                "change": change,
                "previous_content_hash": old["content_hash"] if old else None,
                "content_hash": new["content_hash"] if new else None,
            }
        )
    if staging.previous is not None and (staging.previous / "changes").is_dir():
        for earlier in sorted((staging.previous / "changes").glob("*.parquet")):
            if earlier.name != "empty.parquet":
                staging.reuse(f"changes/{earlier.name}")
    if rows:
        staging.write(
            "changes", f"{staging.run_id}.parquet", pa.Table.from_pylist(rows, schema=CHANGES_SCHEMA)
        )
    return dict(Counter(r["change"] for r in rows))
