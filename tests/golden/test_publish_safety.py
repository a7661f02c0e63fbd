"""Publishing a run is all or nothing, and a version a reader holds is not deleted under it.

A run is a real subprocess killed with SIGKILL: before each step of publishing in turn (found with a
Python audit hook in the child, which sees every rename, link and write the run makes and kills the
process before that step; the run's code is not changed), and at random moments once its staging
folder appears. After every kill all dataset names and the state must resolve to one version, whose
tables are those of the old or of the new raw folder, and the next run must give a fresh run's
tables."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from pipeline import run_incremental
from pipeline.config import PipelineConfig, StoreConfig
from tests.support import REPO, RUN_COLUMNS, corpus, tables, write_files

NAMES = ("documents", "blocks", "boilerplate", "skipped", "_state")

# kill_at = k > 0: SIGKILL before the k-th publishing step; 0: run through and print the steps
KILLED_RUN = r"""
import json, os, signal, sys
from pathlib import Path

raw, out, kill_at = Path(sys.argv[1]), os.path.abspath(sys.argv[2]), int(sys.argv[3])
runs = os.path.join(out, "_runs")
steps = []

def _path(p):
    return os.path.abspath(os.fsdecode(p)) if isinstance(p, (str, bytes, os.PathLike)) else None

def hook(event, args):
    if event in ("os.rename", "os.symlink", "os.remove", "shutil.rmtree"):
        paths = [_path(p) for p in (args[:2] if event == "os.rename" else args[1:2] if event == "os.symlink" else args[:1])]
        hit = any(p and os.path.dirname(p) in (out, runs) for p in paths)
    elif event == "open" and isinstance(args[1], str) and "w" in args[1]:
        p = _path(args[0])
        hit = p is not None and os.path.dirname(os.path.dirname(p)) == runs  # a file of a version: run.json, markers
    else:
        return
    if hit:
        steps.append(f"{event} {' '.join(os.path.relpath(p, out) for p in (paths if event != 'open' else [p]) if p)}")
        if len(steps) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(hook)
from pipeline import run_incremental
run_incremental(raw, Path(out))
print(json.dumps(steps))
"""


def killed_run(raw: Path, out: Path, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(raw), str(out), str(kill_at)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def versions_seen(out: Path) -> set[Path]:
    """The version folder each dataset name and the state resolve to."""
    return {(out / name).resolve().parent for name in NAMES}


def same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    try:
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    except AssertionError:
        return False
    return True


def leftovers(out: Path) -> list[str]:
    """Half-made things a dead run leaves: staging folders and temporary links."""
    return [
        p.name for p in [*out.iterdir(), *(out / "_runs").iterdir()] if p.name.endswith((".tmp", ".link"))
    ]


def editions(tmp_path: Path, n_sites: int, n_pages: int) -> list[dict[str, pd.DataFrame]]:
    """A fresh run's tables of edition 0 and of edition 1 of the corpus."""
    fresh = []
    for edition in (0, 1):
        raw = write_files(tmp_path / f"raw-{edition}", corpus(n_sites, n_pages, edition))
        run_incremental(raw, tmp_path / f"fresh-{edition}")
        fresh.append(tables(tmp_path / f"fresh-{edition}"))
    return fresh


def test_a_run_killed_before_any_step_of_publishing_leaves_one_whole_version(tmp_path):
    old, new = editions(tmp_path, 2, 12)
    raw, base = tmp_path / "raw", tmp_path / "base"
    write_files(raw, corpus(2, 12))
    run_incremental(raw, base)
    write_files(raw, corpus(2, 12, edition=1))  # every page changed: every file of the version is new

    shutil.copytree(base, tmp_path / "probe", symlinks=True)
    probe = killed_run(raw, tmp_path / "probe", 0)  # the same run, to the end: which steps it takes
    assert probe.returncode == 0, probe.stderr
    steps = json.loads(probe.stdout.strip().splitlines()[-1])
    assert len(steps) >= 3, steps  # at least: the staged version renamed into place, the switch, a marker

    left_behind = {}
    for k in range(1, len(steps) + 1):
        out = tmp_path / f"killed-{k}"
        shutil.copytree(base, out, symlinks=True)
        proc = killed_run(raw, out, k)
        assert proc.returncode == -signal.SIGKILL, (k, steps[k - 1], proc.stderr[-2000:])
        seen = versions_seen(out)
        assert len(seen) == 1, f"killed before {steps[k - 1]!r}: datasets and state of {len(seen)} versions"
        visible = tables(out)
        is_old, is_new = same_tables(visible, old), same_tables(visible, new)
        assert is_old or is_new, f"killed before {steps[k - 1]!r}: tables of neither version"

        summary = run_incremental(raw, out)  # the state that came with the visible tables is right
        n = 24
        assert (summary["pages_changed"], summary["pages_unchanged"]) == ((n, 0) if is_old else (0, n)), k
        assert same_tables(tables(out), new), k
        assert len(versions_seen(out)) == 1, k
        left_behind[steps[k - 1]] = leftovers(out)
    assert not any(left_behind.values()), left_behind  # the next run clears what a killed one left


def test_runs_killed_at_random_moments_always_leave_one_whole_version(tmp_path):
    fresh = editions(tmp_path, 2, 30)
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(2, 30))
    run_incremental(raw, out)
    rnd = random.Random(19)
    edition = 0
    for _ in range(4):
        edition = 1 - edition
        write_files(raw, corpus(2, 30, edition))
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_RUN, str(raw), str(out), "0"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None and not any(p.name.endswith(".tmp") for p in (out / "_runs").iterdir()):
            time.sleep(0.001)  # the run has started writing its version
        time.sleep(rnd.uniform(0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(versions_seen(out)) == 1
        visible = tables(out)
        assert same_tables(visible, fresh[0]) or same_tables(visible, fresh[1])
    run_incremental(raw, out)
    assert same_tables(tables(out), fresh[edition])


def test_a_version_being_read_stays_until_its_grace_period_ends(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(2, 10))
    run_incremental(raw, out)
    first = tables(out)
    held = Path(os.path.realpath(out / "documents"))  # a reader resolved the version and reads from it
    reader = ds.dataset(held, format="parquet")
    for edition in (1, 2, 3):  # three newer versions are published meanwhile
        write_files(raw, corpus(2, 10, edition))
        run_incremental(raw, out)
    got = reader.to_table().to_pandas().drop(columns=RUN_COLUMNS).sort_values("doc_id")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), first["documents"])
    blocks = pd.read_parquet(held.parent / "blocks")  # the rest of that version too
    assert set(blocks.doc_id) == set(first["documents"].doc_id)
    assert not same_tables(tables(out), first)  # while the dataset names show the newest version

    # the grace period is a setting, counted from when a version stopped being current
    runs = out / "_runs"
    versions = sorted(p for p in runs.iterdir() if not p.is_symlink())
    assert len(versions) == 4 and all((v / "superseded_at").is_file() for v in versions[:-1])
    run_incremental(raw, out, PipelineConfig(store=StoreConfig(keep_superseded_s=0)))
    left = sorted(p for p in runs.iterdir() if not p.is_symlink())
    assert left == [versions[-1], (runs / "current").resolve()]  # the previous one is always kept
    assert not held.exists()


def test_an_output_folder_of_the_per_dataset_link_layout_is_adopted(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, corpus(2, 10))
    run_incremental(raw, out)
    before = tables(out)
    version = (out / "_runs" / "current").resolve()
    # as a release that switched each dataset link on its own left it
    (out / "_runs" / "current").unlink()
    for name in NAMES:
        (out / name).unlink()
        os.symlink(os.path.join("_runs", version.name, name), out / name)

    summary = run_incremental(raw, out)
    assert summary["pages_unchanged"] == 20 and summary["parsed"] == 0  # its state was found
    assert same_tables(tables(out), before)
    for name in NAMES:
        assert os.readlink(out / name) == os.path.join("_runs", "current", name)
    assert (out / "_runs" / "current").resolve() != version
