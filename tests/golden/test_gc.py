"""`sitesift gc` on real runs' output: old versions and dead runs' staging go, the current and the
previous version stay readable, and the space it reports is the space the disk gets back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline import run_incremental
from pipeline.config import PipelineConfig, StoreConfig
from pipeline.store.gc import STAGING, VERSION, collect
from pipeline.store.parquet import RUNS_DIR, current_run
from tests.support import REPO, RUN_SCRIPT, corpus, tables, write_files


def disk_usage(root: Path) -> int:
    """What `du` counts: every inode under root once (hard links shared between versions once)."""
    seen, total = set(), 0
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def versions(out: Path) -> list[str]:
    return sorted(
        p.name for p in (out / RUNS_DIR).iterdir() if not p.name.startswith(".") and not p.is_symlink()
    )


@pytest.fixture
def three_versions(tmp_path) -> tuple[Path, Path, str]:
    """Three run versions, as a run killed between switching its links and pruning leaves them: the
    oldest shares the untouched site's files with the two newer ones (hard links). The runs keep no
    replaced version beyond the previous one (no grace period), as gc's own rule."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    cfg = PipelineConfig(store=StoreConfig(keep_superseded_s=0))
    write_files(raw, corpus(2, 40))
    run_incremental(raw, out, cfg)
    oldest = current_run(out)
    assert oldest is not None
    kept_aside = tmp_path / "aside"
    write_files(raw, {"site0/page0000.txt": "Site 0 menu\n\nA new first page\n\nFirst published 2 May 2024"})
    run_incremental(raw, out, cfg)
    shutil.copytree(oldest, kept_aside, copy_function=os.link)  # the same inodes, as the run left them
    write_files(raw, {"site0/page0001.txt": "Site 0 menu\n\nA new second page\n\nFirst published 3 May 2024"})
    run_incremental(raw, out, cfg)  # its prune removes the oldest version...
    assert not oldest.exists()
    kept_aside.rename(oldest)  # ...which a killed prune would have left
    assert len(versions(out)) == 3
    return raw, out, oldest.name


def test_gc_removes_an_old_version_and_frees_what_the_disk_gets_back(three_versions):
    raw, out, oldest = three_versions
    current = current_run(out)
    assert current is not None
    before, used, alone = tables(out), disk_usage(out), disk_usage(out / RUNS_DIR / oldest)

    dry = collect(out, dry_run=True)
    assert [(r.kind, r.path.name) for r in dry.removals] == [(VERSION, oldest)]
    assert len(versions(out)) == 3 and disk_usage(out) == used  # a dry run only measures

    done = collect(out)
    assert versions(out) == sorted(v for v in dry.kept_versions)
    assert done.kept_versions[current.name] == "current" and oldest not in versions(out)
    assert done.freed() == dry.freed() == used - disk_usage(out) > 0
    assert done.freed() < alone  # site1's files are shared with the versions that stay: they free nothing
    for name, df in tables(out).items():
        pd.testing.assert_frame_equal(df, before[name], obj=name)
    write_files(raw, {"site1/page0000.txt": "Site 1 menu\n\nChanged\n\nFirst published 4 May 2024"})
    assert run_incremental(raw, out)["pages_changed"] == 1  # the next run builds on what stayed


def test_gc_keeps_as_many_versions_as_asked_and_never_fewer_than_two(three_versions):
    _, out, oldest = three_versions
    assert collect(out, keep=3).removals == [] and oldest in versions(out)
    with pytest.raises(ValueError, match="at least 2"):
        collect(out, keep=1)
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "gc", "--out", str(out), "--keep", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--keep 1" in proc.stderr
    assert len(versions(out)) == 3


def killed_run(tmp_path: Path) -> tuple[Path, Path]:
    """An output folder with the staging folder of a run killed (SIGKILL) while writing."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(3, 150))
    run_incremental(raw, out)
    write_files(raw, corpus(3, 150, edition=1))
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(raw), str(out)], cwd=REPO, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        staging = [p for p in (out / RUNS_DIR).iterdir() if p.name.endswith(".tmp")]
        if staging and any((staging[0] / "documents").glob("*.parquet")):
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return raw, out


HOLD_LOCK = (
    "import sys; from pathlib import Path; from pipeline.locks import RunLock\n"
    "with RunLock(Path(sys.argv[1])):\n    print('held', flush=True); sys.stdin.read()"
)


def test_gc_clears_a_dead_runs_staging_only_when_no_run_holds_the_lock(tmp_path):
    raw, out = killed_run(tmp_path)
    before = tables(out)
    staging = [p for p in (out / RUNS_DIR).iterdir() if p.name.endswith(".tmp")]
    assert len(staging) == 1

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = collect(out)
        assert busy.removals == [] and staging[0].exists()
        assert f"a run (pid {holder.pid}) is writing" in " ".join(busy.notes)
    finally:
        holder.communicate("", timeout=60)

    used = disk_usage(out)
    done = collect(out)
    assert [(r.kind, r.path) for r in done.removals] == [(STAGING, staging[0])]
    assert not staging[0].exists() and done.freed(STAGING) == used - disk_usage(out) > 0
    for name, df in tables(out).items():
        pd.testing.assert_frame_equal(df, before[name], obj=name)
    assert run_incremental(raw, out)["pages_changed"] == 450
