"""A run killed with SIGKILL while writing leaves the previous dataset readable, and the next run is
right; two runs on one output folder never interleave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd

from pipeline import run_incremental
from pipeline.locks import RunLock
from tests.support import REPO, RUN_SCRIPT, assert_same_tables, corpus, tables, write_files


def test_sigkill_while_writing_keeps_the_previous_dataset(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(3, 150))
    run_incremental(raw, out)
    before = tables(out)
    write_files(raw, corpus(3, 150, edition=1))  # every page changed: every site is re-learned and rewritten

    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(raw), str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    runs = out / "_runs"
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        staging = [p for p in runs.iterdir() if p.name.endswith(".tmp")]
        if staging and any((staging[0] / "documents").glob("*.parquet")):
            os.kill(proc.pid, signal.SIGKILL)  # mid-write: some site files written, not committed
            killed = True
            break
        time.sleep(0.002)
    proc.wait()
    assert killed, "the run finished before it could be killed while writing"
    for name, df in tables(out).items():  # the previous version, whole and readable
        pd.testing.assert_frame_equal(df, before[name], obj=name)

    summary = run_incremental(raw, out)  # the lock died with the process; the half-written version is dropped
    assert summary["pages"] == 450 and summary["pages_changed"] == 450
    assert not [p for p in runs.iterdir() if p.name.endswith(".tmp")]
    fresh = tmp_path / "fresh"
    run_incremental(raw, fresh)
    assert_same_tables(out, fresh)


def test_a_second_run_on_the_same_output_is_refused_clearly(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(1, 5))
    with RunLock(out):
        proc = subprocess.run(
            [sys.executable, "-c", RUN_SCRIPT, str(raw), str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode != 0
    assert "another sitesift run" in proc.stderr and f"(pid {os.getpid()})" in proc.stderr
    assert not (out / "documents").exists()


def test_two_concurrent_runs_do_not_interleave(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(3, 100))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_SCRIPT, str(raw), str(out)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    ok = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert ok, results
    assert all("another sitesift run" in r[2] for r in refused), refused
    fresh = tmp_path / "fresh"
    run_incremental(raw, fresh)
    assert_same_tables(out, fresh)
