"""Publishing to object storage, where there are no symbolic links and no atomic rename. Touches disk
and the network.

A run on a remote output works in a local work folder laid out as a local output (the versions, the
`_runs/current` link, the state inside each version). Before the run, the store's current version is
brought into it (nothing to fetch when the work folder already has it); after the local switch, the
new version goes to <out>/_runs/<run id>/ (files the run reused are copied inside the store, the
others uploaded), then ONE small object, <out>/_runs/current holding the run id, is written: that
write is the switch readers follow (read_dataset, dataset_url). A run killed before it leaves the
previous version current and whole; a version replaced stays in the store for
StoreConfig.keep_superseded_s, and the one the current version replaced always stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.locations import Location, Remote
from pipeline.store.parquet import (
    CURRENT,
    PUBLISHED,
    RUN_INFO,
    RUNS_DIR,
    SUPERSEDED,
    current_run,
    point_current,
)

POINTER = f"{RUNS_DIR}/{CURRENT}"  # on a store: an object whose text is the current run id
# a version's file -> (inode, mtime_ns) as it was put into or fetched from the store: not sent again
InStore = dict[str, tuple[int, int]]


def default_work_folder(out: Remote) -> Path:
    """Per output URL, under the user's cache folder (XDG_CACHE_HOME, else ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "sitesift" / "work" / hashlib.sha1(out.url.encode()).hexdigest()[:16]


def remote_current(out: Remote) -> str | None:
    """The run id the store's pointer names now, or None before the first run."""
    try:
        run_id = out.fs().cat_file(out.key(POINTER)).decode().strip()
    except FileNotFoundError:
        return None
    return run_id or None


def version_url(out: Remote, run_id: str) -> Remote:
    return out.child(f"{RUNS_DIR}/{run_id}")


@dataclass(frozen=True)
class RunOutput:
    """Where a run writes its versions (`folder`, local) and, for a remote output, the store they are
    published to after the local switch."""

    folder: Path
    remote: Remote | None = None

    @classmethod
    def of(cls, out: Location, work: Path | None = None) -> RunOutput:
        if isinstance(out, Remote):
            return cls(work or default_work_folder(out), out)
        return cls(out)

    def pull(self) -> None:
        """Make the store's current version the work folder's current one (fetched only when the work
        folder does not hold it: another machine published, or this one died before its switch)."""
        if self.remote is None:
            return
        want, have = remote_current(self.remote), current_run(self.folder)
        if have is not None and have.name == want:
            return
        runs = self.folder / RUNS_DIR
        if want is None:  # the store has no version: neither has the work folder
            for name in (*PUBLISHED, f"{RUNS_DIR}/{CURRENT}"):
                if (self.folder / name).is_symlink():
                    (self.folder / name).unlink()
            return
        if not (runs / want / RUN_INFO).is_file():
            _download(self.remote, want, runs / want)
        point_current(self.folder, want)

    def push(self, keep_superseded_s: float, in_store: InStore | None = None) -> str | None:
        """Publish the work folder's current version to the store and switch the store to it; returns
        its run id (None for a local output: the local switch was the publish). `in_store`: files of the
        version already there, by (inode, mtime_ns) as they were put or fetched (unchanged: not sent)."""
        if self.remote is None:
            return None
        version = current_run(self.folder)
        assert version is not None, "push after a local commit only"
        previous = json.loads((version / RUN_INFO).read_text()).get("previous")
        _upload(self.remote, version, self.folder / RUNS_DIR / previous if previous else None, in_store or {})
        fs = self.remote.fs()
        fs.pipe_file(self.remote.key(POINTER), version.name.encode())  # the switch
        if previous is not None:
            _mark_superseded(self.remote, previous, dt.datetime.now(dt.UTC))
        prune_remote(self.remote, version.name, previous, keep_superseded_s)
        return version.name


def _download(out: Remote, run_id: str, into: Path) -> None:
    """A whole version from the store into a fresh local folder, many files at once."""
    fs, prefix = out.fs(), version_url(out, run_id).path + "/"
    tmp = into.parent / f".{into.name}.download.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    fs.invalidate_cache(prefix)
    keys = [k for k in fs.find(prefix) if not k.endswith("/" + SUPERSEDED)]
    local = [tmp / k[len(prefix) :] for k in keys]
    for path in local:
        path.parent.mkdir(parents=True, exist_ok=True)
    fs.get(keys, [str(p) for p in local])
    for dataset in PUBLISHED:
        (tmp / dataset).mkdir(exist_ok=True)
    shutil.rmtree(into, ignore_errors=True)  # a download that died part-way
    os.rename(tmp, into)


def _upload(out: Remote, version: Path, previous: Path | None, in_store: InStore) -> None:
    """Every file of a local version under <out>/_runs/<run id>/ but those already there as they are."""
    rels = []
    for path in sorted(p for p in version.rglob("*") if p.is_file()):
        rel, st = path.relative_to(version).as_posix(), path.stat()
        if rel != SUPERSEDED and in_store.get(rel) != (st.st_ino, st.st_mtime_ns):
            rels.append(rel)
    put_version_files(out, version.name, version, previous, rels)


def put_version_files(out: Remote, run_id: str, folder: Path, previous: Path | None, rels: list[str]) -> None:
    """These files of a local version folder under <out>/_runs/<run_id>/: a file hard-linked from the
    previous version (a site or folder the run did not change) is copied inside the store, the rest
    uploaded, many at a time."""
    fs, target = out.fs(), version_url(out, run_id)
    before = version_url(out, previous.name) if previous is not None else None
    local: list[str] = []
    remote: list[str] = []
    copies: list[tuple[str, str]] = []
    for rel in rels:
        path, old = folder / rel, previous / rel if previous is not None else None
        if before is not None and old is not None and old.is_file() and os.path.samefile(path, old):
            copies.append((before.key(rel), target.key(rel)))
        else:
            local.append(str(path))
            remote.append(target.key(rel))
    try:
        if copies:
            fs.copy([src for src, _ in copies], [dst for _, dst in copies])
    except FileNotFoundError:  # one is not in the store after all: copy what is, upload the rest
        for (src, dst), rel in zip(copies, [d[len(target.path) + 1 :] for _, d in copies]):
            try:
                fs.copy(src, dst)
            except FileNotFoundError:
                local.append(str(folder / rel))
                remote.append(dst)
    if local:
        fs.put(local, remote)


def _mark_superseded(out: Remote, run_id: str, when: dt.datetime) -> None:
    fs, key = out.fs(), version_url(out, run_id).key(SUPERSEDED)
    if not fs.exists(key):
        fs.pipe_file(key, when.isoformat().encode())


def prune_remote(out: Remote, current: str, previous: str | None, keep_superseded_s: float) -> None:
    """The store's versions superseded more than keep_superseded_s ago are deleted, except the current
    one and the one it replaced; a version without its supersession time (one that never became
    current) gets it now, and is kept for the whole grace period from here."""
    fs, now = out.fs(), dt.datetime.now(dt.UTC)
    fs.invalidate_cache(out.key(RUNS_DIR))  # listings are cached per process; other runs write too
    for path in fs.ls(out.key(RUNS_DIR), detail=False):
        run_id = path.rstrip("/").rsplit("/", 1)[-1]
        if run_id in (current, previous, CURRENT) or run_id.startswith("."):
            continue
        try:
            at = dt.datetime.fromisoformat(fs.cat_file(version_url(out, run_id).key(SUPERSEDED)).decode())
        except (FileNotFoundError, ValueError):
            _mark_superseded(out, run_id, now)
            continue
        if (now - at).total_seconds() >= keep_superseded_s:
            fs.rm(version_url(out, run_id).path, recursive=True)
