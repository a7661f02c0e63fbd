"""The `process` flow as Prefect runs it, and the `sitesift` command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
from prefect.artifacts import Artifact

from flows.process import process
from pipeline import run_incremental
from tests.support import REPO, assert_same_tables, tables


def test_process_flow_writes_datasets_and_summary_artifact(naht_raw, tmp_path):
    out = tmp_path / "processed"
    summary = process(raw=str(naht_raw), out=str(out))
    assert summary["pages"] == 5 and summary["skipped"] == 0
    site = summary["sites"][0]
    assert site["site"] == "naht" and site["boilerplate_share"] > 0.5
    assert (site["with_published"], site["with_updated"]) == (5, 1)
    docs = pd.read_parquet(out / "documents")
    assert len(docs) == 5 and docs.title.notna().all()
    artifact = Artifact.get("sitesift-process-summary")
    assert artifact is not None and artifact.type == "table"
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert rows[0]["site"] == "naht" and rows[0]["pages"] == 5
    progress = Artifact.get("sitesift-progress")
    assert progress is not None and float(progress.data) == 100.0


def test_the_flow_and_the_library_entry_write_the_same_tables(naht_and_html_site_raw, tmp_path):
    """`sitesift run`'s flow and `pipeline.run_incremental` (the README's script use) are the same run."""
    raw = naht_and_html_site_raw
    process(raw=str(raw), out=str(tmp_path / "flow"))
    run_incremental(raw, tmp_path / "library", workers=2)
    flow = tables(tmp_path / "flow")
    assert len(flow["documents"]) > 5 and len(flow["boilerplate"]) > 0
    assert_same_tables(tmp_path / "flow", tmp_path / "library")


def test_rerun_replaces_dataset_atomically(naht_raw, tmp_path):
    out = tmp_path / "processed"
    process(raw=str(naht_raw), out=str(out))
    first = os.path.realpath(out / "documents")
    (naht_raw / "naht" / "000_0a110b620bc841eb.txt").unlink()
    process(raw=str(naht_raw), out=str(out))
    assert os.path.realpath(out / "documents") != first
    assert len(pd.read_parquet(out / "documents")) == 4


def test_cli_run_as_a_user_would(naht_raw, tmp_path):
    out = tmp_path / "processed"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "COLUMNS": "120"}
    env.pop("PREFECT_API_URL", None)  # the harness's server is this process's; the CLI starts its own
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--raw", str(naht_raw), "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "naht" in proc.stdout and "pages 5" in proc.stdout and "skipped 0" in proc.stdout
    docs = pd.read_parquet(out / "documents")
    assert sorted(docs.published.astype(str)) == [
        "2018-06-20",
        "2020-06-24",
        "2021-07-19",
        "2022-03-30",
        "2025-12-18",
    ]


def test_cli_reports_a_missing_raw_folder(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--raw", str(tmp_path / "nope")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_parse_task_is_cached_on_content_hash(naht_raw, tmp_path):
    import shutil

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    out = tmp_path / "processed"
    process(raw=str(naht_raw), out=str(out))
    for name in ("_runs", "_state", "documents", "blocks", "boilerplate", "skipped"):  # lose our own state...
        path = out / name
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    state = process(
        raw=str(naht_raw), out=str(out), return_state=True
    )  # ...Prefect's cache still knows the pages
    summary = state.result()
    assert summary["parsed"] == 5 and summary["pages"] == 5
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    parse_runs = [r for r in runs if r.name.startswith("parse-pages")]
    assert parse_runs and all(r.state.name == "Cached" for r in parse_runs)
