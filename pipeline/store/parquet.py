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
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import PIPELINE_VERSION
from pipeline.config import PipelineConfig
from pipeline.schemas import DATASETS, SCHEMA_VERSION
from pipeline.store.state_layout import STATE_DIR

RUNS_DIR = "_runs"
KEEP_RUNS = 2  # the current version and the one before it (a reader may still be listing it)


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


def _parquet_options(columns: list[str]) -> dict:
    """zstd and dictionaries, except for MinHash signatures: random bytes, compressing them costs
    time and saves nothing."""
    return {
        "compression": {c: "none" if c == "signature" else "zstd" for c in columns},
        "use_dictionary": [c for c in columns if c != "signature"],
    }


def _write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **_parquet_options(table.column_names))
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextmanager
def _write_parts(path: Path, schema: pa.Schema) -> Iterator[Callable[[pa.Table], None]]:
    """One file written part by part, with _write_table's options; complete when the block ends."""
    if path.exists():
        path.unlink()  # may be a hard link into the previous version: never write through it
    with pq.ParquetWriter(path, schema, **_parquet_options(schema.names)) as w:
        yield lambda table: w.write_table(table.cast(schema))
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


class StagedVersion:
    """Writing into a version being staged (a folder) next to the previous one. Only paths and
    settings: it can be sent to another process or a Dask worker that shares the file system."""

    def __init__(self, directory: Path, previous: Path | None, cfg: PipelineConfig):
        self.dir, self.previous, self.cfg = directory, previous, cfg

    def write(self, dataset: str, name: str, table: pa.Table) -> Path:
        """Write one file of an output dataset, cast to its schema, with the run's metadata."""
        schema = DATASETS[dataset]
        path = self.dir / dataset / name
        if path.exists():
            path.unlink()  # may be a hard link into the previous version: never write through it
        _write_table(table.cast(schema).replace_schema_metadata(file_metadata(self.cfg, dataset)), path)
        return path

    def writer(self, dataset: str, name: str):
        """Write one file of an output dataset part by part (a large site, a chunk of pages at a
        time); only the whole version is published."""
        return _write_parts(
            self.dir / dataset / name, DATASETS[dataset].with_metadata(file_metadata(self.cfg, dataset))
        )

    def state_writer(self, rel: str, schema: pa.Schema):
        """Write one state file (`rel` from store/state_layout) part by part."""
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return _write_parts(path, schema)

    def write_state(self, rel: str, table: pa.Table) -> Path:
        """Write one state file (`rel` from store/state_layout) as it is."""
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        _write_table(table, path)
        return path

    def staged(self, rel: str) -> Path:
        return self.dir / rel

    def previous_path(self, rel: str) -> Path | None:
        if self.previous is None:
            return None
        path = self.previous / rel
        return path if path.exists() else None

    def reuse(self, rel: str) -> bool:
        """Hard-link <previous version>/rel into this version; False when there is nothing to reuse."""
        src = self.previous_path(rel)
        if src is None:
            return False
        dst = self.dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)
        return True


class Staging(StagedVersion):
    """A new run version being written under <out>/_runs/.<run_id>.tmp. Files are written, or
    hard-linked unchanged from the current version (same inode: content and mtime untouched), then
    commit() renames the folder into place and switches the dataset links. Until then nothing that
    readers see changes; a run that dies leaves a .tmp folder that the next run removes."""

    def __init__(self, out: Path, cfg: PipelineConfig):
        out.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        self.out = out
        self.run_id = new_run_id()
        (out / RUNS_DIR).mkdir(exist_ok=True)
        super().__init__(out / RUNS_DIR / f".{self.run_id}.tmp", current_run(out), cfg)
        self.dir.mkdir()
        for dataset in (*DATASETS, STATE_DIR):
            (self.dir / dataset).mkdir()

    def view(self) -> StagedVersion:
        return StagedVersion(self.dir, self.previous, self.cfg)

    def commit(self, extra: dict | None = None) -> Path:
        for dataset, schema in DATASETS.items():
            folder = self.dir / dataset
            if not any(folder.glob("*.parquet")):
                _write_table(
                    schema.empty_table().replace_schema_metadata(file_metadata(self.cfg, dataset)),
                    folder / "empty.parquet",
                )
            _fsync_dir(folder)
        if extra is not None:
            (self.dir / "run.json").write_text(
                json.dumps({"run_id": self.run_id, **extra}, indent=2, default=str)
            )
        final = self.out / RUNS_DIR / self.run_id
        os.rename(self.dir, final)
        _fsync_dir(final.parent)
        for dataset in (*DATASETS, STATE_DIR):
            _switch_link(self.out, dataset, self.run_id)
        _fsync_dir(self.out)
        _prune(self.out)
        return final


def publish(
    out: Path, files: dict[str, dict[str, pa.Table]], cfg: PipelineConfig, extra: dict | None = None
) -> Path:
    """Write {dataset: {file name: table}} as a complete new version and switch the links to it."""
    staging = Staging(out, cfg)
    for dataset in DATASETS:
        for name, table in sorted((files.get(dataset) or {}).items()):
            staging.write(dataset, name, table)
    return staging.commit(extra)


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
