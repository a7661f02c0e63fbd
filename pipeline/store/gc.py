"""Housekeeping of an output folder: old run versions, staging left by runs that died and expired
parse-cache entries, removed with the disk space each gives back. Touches disk.

Never removes a version a dataset link points to (the current one) nor the one before it (a reader
may still be listing it), and leaves staging and the cache alone while a run holds the folder's lock:
only what no run can be using goes."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from rich.filesize import decimal

from pipeline.config import ResourceLimits
from pipeline.locations import Location, Remote
from pipeline.locks import LOCK_NAME, RunLock, RunLocked
from pipeline.store.parquet import RUN_INFO, RUNS_DIR, current_run

KEEP_RUNS = 2  # the current version and the one it replaced always stay

TASK_CACHE_DIR = "_task_cache"  # Prefect's persisted parse results under the output folder

VERSION = "old run versions"
STAGING = "staging of dead runs"
CACHE = "task cache entries"
PREEXISTING = "preexisting-"  # a plain dataset folder found where a link goes, kept as data (store.parquet)


@dataclass(frozen=True)
class Removal:
    kind: str  # VERSION, STAGING or CACHE
    path: Path | Remote
    freed: int  # bytes of disk given back; a file hard-linked from what stays gives back nothing


@dataclass
class GcReport:
    """What `collect` removed (or, in a dry run, would remove) and what it kept."""

    out: Location
    dry_run: bool
    cache_days: int
    all_cache: bool
    removals: list[Removal] = field(default_factory=list)
    kept_versions: dict[str, str] = field(default_factory=dict)  # run id -> why it stays
    cache_entries: int = 0  # entries in the task cache before
    notes: list[str] = field(default_factory=list)

    def freed(self, kind: str | None = None) -> int:
        return sum(r.freed for r in self.removals if kind is None or r.kind == kind)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.removals if r.kind == kind)


def collect(
    out: Path,
    keep: int = KEEP_RUNS,
    cache_days: int = ResourceLimits.task_cache_days,
    all_cache: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> GcReport:
    """Remove from `out`: run versions beyond the `keep` newest (the current one and the one before
    it always stay), staging folders of dead runs, and task-cache entries older than `cache_days`
    (every entry with `all_cache`). With `dry_run`, only measure."""
    check_limits(keep, cache_days)
    if not (out / RUNS_DIR).is_dir() and not (out / TASK_CACHE_DIR).is_dir():
        raise FileNotFoundError(f"{out} holds no sitesift output (no {RUNS_DIR}/ or {TASK_CACHE_DIR}/ in it)")
    report = GcReport(out=out, dry_run=dry_run, cache_days=cache_days, all_cache=all_cache)
    with ExitStack() as stack:
        try:
            stack.enter_context(RunLock(out))
            idle = True
        except RunLocked:
            idle = False
            report.notes.append(
                f"a run (pid {_lock_holder(out)}) is writing to {out}: its staging folder and the task cache "
                "are left alone"
            )
        candidates = _old_versions(out, keep, report)
        if idle:
            candidates += [(STAGING, p) for p in _dead_staging(out)]
            candidates += _cache_entries(out, cache_days, all_cache, now or dt.datetime.now(dt.UTC), report)
        report.removals = _measure(candidates)
        if not dry_run:
            for r in report.removals:
                assert isinstance(r.path, Path)
                _remove(r.path)
    return report


def check_limits(keep: int, cache_days: int) -> None:
    """What any output, local or on a store, must keep: the current version and the one before it."""
    if keep < KEEP_RUNS:
        raise ValueError(
            f"--keep {keep}: at least {KEEP_RUNS}, the current version and the one before it stay"
        )
    if cache_days < 0:
        raise ValueError(f"cache life of {cache_days} days: must be 0 or more")


def describe(report: GcReport) -> list[str]:
    """The report as lines for the terminal: per kind what goes and the space it frees, then what stays."""
    removed = "would remove" if report.dry_run else "removed"
    lines = []
    versions = [r.path.name for r in report.removals if r.kind == VERSION]
    lines.append(
        f"{VERSION}: {removed} {len(versions)}, {decimal(report.freed(VERSION))}"
        + (f" ({', '.join(versions)})" if versions else "")
    )
    lines.append(f"{STAGING}: {removed} {report.count(STAGING)}, {decimal(report.freed(STAGING))}")
    which = "all" if report.all_cache else f"older than {report.cache_days} days"
    lines.append(
        f"{CACHE} ({which}): {removed} {report.count(CACHE)} of {report.cache_entries}, "
        f"{decimal(report.freed(CACHE))}"
    )
    kept = ", ".join(f"{run_id} ({why})" for run_id, why in sorted(report.kept_versions.items()))
    lines.append(f"run versions kept: {kept or 'none'}")
    lines.extend(report.notes)
    lines.append(f"{'would free' if report.dry_run else 'freed'} {decimal(report.freed())} in {report.out}")
    return lines


def _lock_holder(out: Path) -> str:
    try:
        return (out / LOCK_NAME).read_text().strip() or "?"
    except OSError:
        return "?"


def _old_versions(out: Path, keep: int, report: GcReport) -> list[tuple[str, Path]]:
    runs = out / RUNS_DIR
    if not runs.is_dir():
        return []
    entries = sorted(runs.iterdir())
    versions = [
        p for p in entries if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", PREEXISTING))
    ]
    current, previous = _current_and_previous(out)
    if current is not None:
        report.kept_versions[current] = "current"
    if previous is not None:
        report.kept_versions.setdefault(previous, "previous")
    for v in versions[-keep:]:
        report.kept_versions.setdefault(v.name, f"among the {keep} newest")
    for p in entries:
        if p.name.startswith(PREEXISTING):
            report.notes.append(
                f"{p} is a dataset folder that was in {out} before sitesift wrote there: kept "
                "(delete it yourself if you do not need it)"
            )
    return [(VERSION, v) for v in versions if v.name not in report.kept_versions]


def _current_and_previous(out: Path) -> tuple[str | None, str | None]:
    """The run ids of the version readers see now and of the one it replaced (from its run.json)."""
    current = current_run(out)
    if current is None:
        return None, None
    try:
        previous = json.loads((current / RUN_INFO).read_text()).get("previous")
    except (OSError, ValueError):
        previous = None
    return current.name, previous


def _dead_staging(out: Path) -> list[Path]:
    """Half-written versions and half-made dataset links of runs that died (only called under the lock)."""
    runs = out / RUNS_DIR
    staged = (
        [p for p in runs.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
        if runs.is_dir()
        else []
    )
    links = [
        p for p in out.iterdir() if p.name.startswith(".") and p.name.endswith(".link") and p.is_symlink()
    ]
    return sorted(staged) + sorted(links)


def _cache_entries(
    out: Path, cache_days: int, all_cache: bool, now: dt.datetime, report: GcReport
) -> list[tuple[str, Path]]:
    """Entries Prefect would no longer reuse: written more than `cache_days` ago (its expiration is the
    write time plus the task's cache_expiration)."""
    cache = out / TASK_CACHE_DIR
    if not cache.is_dir():
        return []
    entries = sorted(cache.iterdir())
    report.cache_entries = len(entries)
    cutoff = (now - dt.timedelta(days=cache_days)).timestamp()
    return [(CACHE, p) for p in entries if all_cache or p.lstat().st_mtime < cutoff]


def _tree(path: Path) -> Iterator[os.stat_result]:
    """lstat of path and of everything under it, links not followed; what a running run's own prune
    removes meanwhile is skipped."""
    for p in (path, *path.rglob("*")) if path.is_dir() and not path.is_symlink() else (path,):
        try:
            yield p.lstat()
        except FileNotFoundError:
            continue


def _measure(candidates: list[tuple[str, Path]]) -> list[Removal]:
    """Disk space each removal gives back: an inode is freed only when every one of its hard links
    is among the removed paths (untouched sites' files are shared between versions)."""
    stats = [(kind, path, list(_tree(path))) for kind, path in candidates]
    links = Counter((st.st_dev, st.st_ino) for _, _, sts in stats for st in sts)
    counted: set[tuple[int, int]] = set()
    removals = []
    for kind, path, sts in stats:
        freed = 0
        for st in sts:
            key = (st.st_dev, st.st_ino)
            if key in counted or (not stat.S_ISDIR(st.st_mode) and links[key] < st.st_nlink):
                continue
            counted.add(key)
            freed += st.st_blocks * 512
        removals.append(Removal(kind, path, freed))
    return removals


def _remove(path: Path) -> None:
    """Remove a file or a folder tree (a running run's own prune may be removing it too)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
