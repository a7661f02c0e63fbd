"""`sitesift gc` on the parse cache that Prefect's `process` flow really wrote: entries past the cache
life go, the rest stay and are still reused; `--cache` empties it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

from flows.process import TASK_CACHE_DIR, parse_pages, process
from pipeline.config import ResourceLimits
from pipeline.store import gc
from tests.support import REPO, parse_states, write_files

EXTRA = {
    "naht/zz_extra.txt": "Home Menu\n\nA page added later\n\nIts own paragraph.\n\nFirst published 2 May 2024"
}


def test_gc_and_the_readme_use_the_cache_life_and_folder_the_flow_uses():
    days = ResourceLimits().task_cache_days
    assert parse_pages.cache_expiration == dt.timedelta(days=days)
    assert TASK_CACHE_DIR == gc.TASK_CACHE_DIR
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f"task cache is keyed on page bytes and parse settings and lives for {days} days" in readme


def test_gc_drops_cache_entries_older_than_the_cache_life(naht_raw, tmp_path):
    out = tmp_path / "processed"
    process(raw=str(naht_raw), out=str(out), workers=0)
    cache = out / TASK_CACHE_DIR
    (bundled,) = list(cache.iterdir())  # the five bundled pages' parse
    write_files(naht_raw, EXTRA)
    process(raw=str(naht_raw), out=str(out), workers=0)
    (extra,) = [p for p in cache.iterdir() if p != bundled]  # the added page's parse
    month_ago = (dt.datetime.now() - dt.timedelta(days=ResourceLimits().task_cache_days, hours=1)).timestamp()
    os.utime(extra, (month_ago, month_ago))  # as if written a cache life ago
    size = extra.stat().st_blocks * 512

    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "gc", "--out", str(out), "--dry-run"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "task cache entries (older than 30 days): would remove 1 of 2" in proc.stdout
    assert extra.exists()

    report = gc.collect(out)
    assert [r.path for r in report.removals] == [extra] and report.freed() == size > 0
    assert not extra.exists() and bundled.exists()

    for p in out.iterdir():  # a fresh output folder that keeps only the cache
        if p.is_dir() and not p.is_symlink() and p.name != TASK_CACHE_DIR:
            shutil.rmtree(p)
        elif p.name != TASK_CACHE_DIR:
            p.unlink()
    (naht_raw / next(iter(EXTRA))).unlink()
    state = process(raw=str(naht_raw), out=str(out), workers=0, return_state=True)
    assert state.is_completed() and parse_states(state) == ["Cached"]  # the entry that stayed is reused

    everything = gc.collect(out, all_cache=True)
    assert [r.path for r in everything.removals] == [bundled] and list(cache.iterdir()) == []
