"""Parquet output with explicit schemas, published atomically. Touches disk.

Layout: every run writes a complete new version under <out>/_runs/<run_id>/ (documents, blocks,
boilerplate, skipped and the run's _state), then switches ONE link, <out>/_runs/current -> <run_id>,
with os.replace (an atomic rename): every dataset and the state change together or not at all. The
dataset names <out>/documents, ... are links to _runs/current/documents, ..., made once. A run that
dies before the switch leaves the previous version current and whole. A superseded version stays on
disk for a grace period (StoreConfig) measured from its supersession, and the one before the current
version always stays, so a reader that resolved a version keeps reading it. pyarrow, pandas and DuckDB
ignore the underscore-prefixed _runs folder when reading <out> as a whole.
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

from pipeline.config import PIPELINE_VERSION, PipelineConfig
from pipeline.schemas import DATASETS, SCHEMA_VERSION
from pipeline.store.state_layout import STATE_DIR

RUNS_DIR = "_runs"
CURRENT = "current"  # <out>/_runs/current -> <run_id>: the one link a run switches
RUN_INFO = "run.json"  # in a version: its run id, the version it replaced, the run's summary
SUPERSEDED = "superseded_at"  # in a version: when (UTC, ISO 8601) it stopped being current
PUBLISHED = (*DATASETS, STATE_DIR)  # the names under <out> that are links into the current version


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
    """Remove what runs that died left half-made: staging folders and temporary links."""
    runs = out / RUNS_DIR
    if runs.is_dir():
        for p in runs.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                shutil.rmtree(p, ignore_errors=True)
            elif p.name.startswith(".") and p.name.endswith(".link"):
                p.unlink(missing_ok=True)
    for p in out.glob(".*.link"):
        p.unlink(missing_ok=True)


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
    commit() renames the folder into place and switches _runs/current to it. Until then nothing that
    readers see changes; a run that dies leaves a .tmp folder that the next run removes."""

    def __init__(self, out: Path, cfg: PipelineConfig):
        out.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        self.out = out
        self.run_id = new_run_id()
        (out / RUNS_DIR).mkdir(exist_ok=True)
        adopt_old_layout(out)
        super().__init__(out / RUNS_DIR / f".{self.run_id}.tmp", current_run(out), cfg)
        self.dir.mkdir()
        for dataset in PUBLISHED:
            (self.dir / dataset).mkdir()

    def view(self) -> StagedVersion:
        return StagedVersion(self.dir, self.previous, self.cfg)

    def commit(self, extra: dict | None = None) -> Path:
        """Publish the staged version: every dataset and the state at once, by one atomic rename."""
        for dataset, schema in DATASETS.items():
            folder = self.dir / dataset
            if not any(folder.glob("*.parquet")):
                _write_table(
                    schema.empty_table().replace_schema_metadata(file_metadata(self.cfg, dataset)),
                    folder / "empty.parquet",
                )
            _fsync_dir(folder)
        previous = self.previous.name if self.previous else None
        info = {"run_id": self.run_id, "previous": previous, **(extra or {})}
        (self.dir / RUN_INFO).write_text(json.dumps(info, indent=2, default=str))
        _fsync_dir(self.dir)
        final = self.out / RUNS_DIR / self.run_id
        os.rename(self.dir, final)
        _fsync_dir(final.parent)
        for name in PUBLISHED:  # made once (dangling until the first switch): readers find them
            _dataset_link(self.out, name)
        _replace_link(self.out / RUNS_DIR / CURRENT, self.run_id)  # the switch
        if previous is not None:
            _mark_superseded(self.out / RUNS_DIR / previous)
        prune(self.out, self.cfg.store.keep_superseded_s)
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


def _replace_link(link: Path, target: str) -> None:
    """Point `link` at `target` in one atomic step (a new link renamed over the old one)."""
    tmp = link.parent / f".{link.name}.{secrets.token_hex(4)}.link"
    os.symlink(target, tmp)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def point_current(out: Path, run_id: str) -> None:
    """Make <out>/_runs/<run_id> the current version (the one link switched), and the dataset names
    links through it."""
    _replace_link(out / RUNS_DIR / CURRENT, run_id)
    for name in PUBLISHED:
        _dataset_link(out, name)


def _dataset_link(out: Path, name: str) -> None:
    """<out>/<name> -> _runs/current/<name>, unless it is already that link."""
    link, target = out / name, os.path.join(RUNS_DIR, CURRENT, name)
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.exists() and not link.is_symlink():
        # a plain folder from elsewhere: keep it as an old version rather than deleting data
        os.rename(link, out / RUNS_DIR / f"preexisting-{name}-{new_run_id()}")
    _replace_link(link, target)


def adopt_old_layout(out: Path) -> None:
    """An output folder written when each dataset was its own link into a version (<out>/documents
    -> _runs/<id>/documents) gets the one `_runs/current` link, to the version its documents link
    named, and its dataset links point through it: each link names the same files before and after,
    so readers see no change."""
    current = out / RUNS_DIR / CURRENT
    if current.is_symlink() or not (out / "documents").is_symlink():
        return
    version = (out / os.readlink(out / "documents")).parent
    if version.parent.resolve() != (out / RUNS_DIR).resolve() or not version.is_dir():
        return
    _replace_link(current, version.name)
    for name in PUBLISHED:
        _dataset_link(out, name)


def current_run(out: Path) -> Path | None:
    """The folder of the version readers see now (resolved: it stays that version's path after a
    later run switched), or None before the first run."""
    current = out / RUNS_DIR / CURRENT
    if current.is_symlink():
        version = current.resolve()
    elif (out / "documents").is_symlink():  # the layout before _runs/current (adopted by the next run)
        version = (out / os.readlink(out / "documents")).parent.resolve()
    else:
        return None
    return version if version.is_dir() else None


def _mark_superseded(version: Path, when: dt.datetime | None = None) -> None:
    marker = version / SUPERSEDED
    if version.is_dir() and not marker.exists():
        marker.write_text((when or dt.datetime.now(dt.UTC)).isoformat())


def superseded_at(version: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat((version / SUPERSEDED).read_text().strip())
    except (OSError, ValueError):
        return None


def prune(out: Path, keep_superseded_s: float) -> None:
    """Delete the versions superseded more than keep_superseded_s seconds ago, except the current
    one and the one it replaced. A version without its supersession time (the run that replaced it
    died before writing it down, or it never became current) gets it now: it is kept for the whole
    grace period from here."""
    current = current_run(out)
    if current is None or current.parent.name != RUNS_DIR:
        return
    try:
        previous = json.loads((current / RUN_INFO).read_text()).get("previous")
    except (OSError, ValueError):
        previous = None
    now = dt.datetime.now(dt.UTC)
    for version in sorted((out / RUNS_DIR).iterdir()):
        if (
            version.is_symlink()
            or not version.is_dir()
            or version.name.startswith((".", "preexisting-"))
            or version.name in (current.name, previous)
        ):
            continue
        at = superseded_at(version)
        if at is None:
            _mark_superseded(version, now)
        elif (now - at).total_seconds() >= keep_superseded_s:
            shutil.rmtree(version, ignore_errors=True)
