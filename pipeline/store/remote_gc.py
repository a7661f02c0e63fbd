"""`sitesift gc` on an output in object storage: old versions under <out>/_runs/ and expired entries
of the task cache under <out>/_task_cache/, with the bytes each gives back. Touches the network.

The same rules as a local output (store/gc.py), with what a store changes: the version readers see
is the one the pointer object names; a version replaced less than StoreConfig.keep_superseded_s ago
stays (a reader that followed the pointer before the switch may still be reading it); files are
copies, never links, so a version frees all its bytes; and there is no lock a run holds on a store,
so nothing here can tell that a run is writing (staging does not exist there: a version is uploaded
under its own run id before the pointer names it, and one that never became current is an old version
once its grace period is over)."""

from __future__ import annotations

import datetime as dt
import json

from pipeline.acquire.remote_raw import mtime_ns
from pipeline.config import ResourceLimits, StoreConfig
from pipeline.locations import Remote
from pipeline.store.gc import CACHE, KEEP_RUNS, TASK_CACHE_DIR, VERSION, GcReport, Removal, check_limits
from pipeline.store.objstore import remote_current, version_url
from pipeline.store.parquet import CURRENT, RUN_INFO, RUNS_DIR, SUPERSEDED


def collect_remote(
    out: Remote,
    keep: int = KEEP_RUNS,
    cache_days: int = ResourceLimits.task_cache_days,
    all_cache: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    keep_superseded_s: float = StoreConfig.keep_superseded_s,
) -> GcReport:
    """collect() for a store: versions beyond the `keep` newest (never the current one, the one
    before it, or one replaced within keep_superseded_s) and task-cache entries older than
    `cache_days` (all with `all_cache`). With `dry_run`, only measure."""
    check_limits(keep, cache_days)
    fs, now = out.fs(), now or dt.datetime.now(dt.UTC)
    fs.invalidate_cache(out.path)  # listings are cached per process; runs elsewhere write here too
    if not fs.isdir(out.key(RUNS_DIR)) and not fs.isdir(out.key(TASK_CACHE_DIR)):
        raise FileNotFoundError(f"{out} holds no sitesift output (no {RUNS_DIR}/ or {TASK_CACHE_DIR}/ in it)")
    report = GcReport(out=out, dry_run=dry_run, cache_days=cache_days, all_cache=all_cache)
    report.removals = _old_versions(out, keep, now, keep_superseded_s, report) + _cache_entries(
        out, cache_days, all_cache, now, report
    )
    if not dry_run:
        versions = [r.path for r in report.removals if r.kind == VERSION]
        entries = [r.path for r in report.removals if r.kind == CACHE]
        for version in versions:
            assert isinstance(version, Remote)
            fs.rm(version.path, recursive=True)
        if entries:
            fs.rm([e.path for e in entries if isinstance(e, Remote)])
    return report


def _old_versions(
    out: Remote, keep: int, now: dt.datetime, keep_superseded_s: float, report: GcReport
) -> list[Removal]:
    fs = out.fs()
    if not fs.isdir(out.key(RUNS_DIR)):
        return []
    names = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(out.key(RUNS_DIR), detail=False))
    versions = [n for n in names if n != CURRENT and not n.startswith(".")]
    current = remote_current(out)
    if current is not None:
        report.kept_versions[current] = "current"
        previous = _previous_of(out, current)
        if previous is not None:
            report.kept_versions.setdefault(previous, "previous")
    for name in versions[-keep:]:
        report.kept_versions.setdefault(name, f"among the {keep} newest")
    removals = []
    for name in versions:
        if name in report.kept_versions:
            continue
        version = version_url(out, name)
        if _replaced_within(version, now, keep_superseded_s):
            report.kept_versions[name] = f"replaced less than {keep_superseded_s:.0f} s ago"
            continue
        removals.append(Removal(VERSION, version, sum(fs.du(version.path, total=False).values())))
    return removals


def _previous_of(out: Remote, run_id: str) -> str | None:
    try:
        return json.loads(out.fs().cat_file(version_url(out, run_id).key(RUN_INFO))).get("previous")
    except (FileNotFoundError, ValueError):
        return None


def _replaced_within(version: Remote, now: dt.datetime, seconds: float) -> bool:
    """Replaced less than `seconds` ago; a version without its time (it never became current, or its
    run died before marking it) counts as replaced when its newest object was written."""
    fs = version.fs()
    try:
        at = dt.datetime.fromisoformat(fs.cat_file(version.key(SUPERSEDED)).decode())
    except (FileNotFoundError, ValueError):
        written = [mtime_ns(info) for info in fs.find(version.path, detail=True).values()]
        known = [ns for ns in written if ns is not None]
        if not known:
            return False
        at = dt.datetime.fromtimestamp(max(known) / 1e9, dt.UTC)
    return (now - at).total_seconds() < seconds


def _cache_entries(
    out: Remote, cache_days: int, all_cache: bool, now: dt.datetime, report: GcReport
) -> list[Removal]:
    """Entries Prefect would no longer reuse: written more than `cache_days` ago (by the store's own
    modification time; an entry without one is kept unless all are asked for)."""
    cache, fs = out.child(TASK_CACHE_DIR), out.fs()
    if not fs.isdir(cache.path):
        return []
    entries = sorted(fs.find(cache.path, detail=True).items())
    report.cache_entries = len(entries)
    cutoff = (now - dt.timedelta(days=cache_days)).timestamp() * 1e9
    removals = []
    for key, info in entries:
        written = mtime_ns(info)
        if all_cache or (written is not None and written < cutoff):
            removals.append(
                Removal(CACHE, cache.child(key[len(cache.path) + 1 :]), int(info.get("size") or 0))
            )
    return removals
