"""Parsing on worker processes: same tables as in-process, and a page over the time limit is skipped
with reason `timeout` while the run completes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd

from pipeline import run_incremental
from pipeline.config import ExtractConfig, PipelineConfig
from tests.support import REPO, assert_same_tables, write_files


def test_worker_processes_give_the_same_tables(naht_and_html_site_raw, tmp_path):
    run_incremental(naht_and_html_site_raw, tmp_path / "serial", workers=0)
    run_incremental(naht_and_html_site_raw, tmp_path / "parallel", workers=2)
    assert_same_tables(tmp_path / "parallel", tmp_path / "serial")


_ENTRY_SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path

    def children():
        return [c for t in os.listdir("/proc/self/task") for c in open(f"/proc/self/task/{t}/children").read().split()]

    class Watch:  # notes whether this process has a child (the fork server) when the pipeline is imported
        def find_spec(self, name, path=None, target=None):
            if name == "pipeline.run":
                print("children when the pipeline was imported:", len(children()))
            return None

    sys.meta_path.insert(0, Watch())
    import pipeline
    summary = pipeline.run_incremental(Path(sys.argv[1]), Path(sys.argv[2]), workers=2)
    print("pages:", summary["pages"])
""")


def test_the_library_entry_starts_the_fork_server_before_importing_the_pipeline(
    naht_and_html_site_raw, tmp_path
):
    """`from pipeline import run_incremental` in a fresh interpreter: the fork server is already
    running when the pipeline's heavy modules are imported (their imports overlap), and the tables
    are the in-process run's."""
    raw = naht_and_html_site_raw
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY_SCRIPT, str(raw), str(tmp_path / "entry")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("children when the pipeline was imported:")]
    assert int(line.rsplit(":", 1)[1]) > 0  # the fork server (and multiprocessing's resource tracker)
    run_incremental(raw, tmp_path / "serial", workers=0)
    assert_same_tables(tmp_path / "entry", tmp_path / "serial")


def test_a_page_over_the_time_limit_is_skipped_and_the_run_completes(naht_raw, tmp_path):
    slow = "<html><body>" + "".join(
        f"<div><p>Paragraph {i} with some words in it.</p></div>" for i in range(60000)
    )
    normal = "<html><body><p>A page of the same batch that parses in a moment, {}.</p></body></html>"
    write_files(
        naht_raw,
        {
            "slow/a.html": normal.format("a"),
            "slow/huge.html": slow + "</body></html>",
            "slow/z.html": normal.format("z"),
        },
    )  # one task: the batch misses its deadline
    cfg = PipelineConfig(extract=ExtractConfig(page_timeout=0.5))
    summary = run_incremental(naht_raw, tmp_path / "out", cfg, workers=2)
    skipped = pd.read_parquet(tmp_path / "out" / "skipped")
    assert skipped.to_dict("records") == [
        {
            "site": "slow",
            "source": "slow/huge.html",
            "reason": "timeout",
            "detail": "parsing took more than 0.5 s",
        }
    ]
    assert summary["pages"] == 7 and summary["skipped_by_reason"] == {"timeout": 1}
    docs = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(docs[docs.site == "slow"].source) == ["slow/a.html", "slow/z.html"]
