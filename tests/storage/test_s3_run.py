"""Raw pages and datasets on a real S3-compatible server (moto's, on 127.0.0.1, one for the module):
a full run and an incremental re-run give a local run's tables, read back with pandas and DuckDB;
a run killed while publishing leaves the previous version current, and its parses in the store's
task cache for the run started again elsewhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import duckdb
import pandas as pd
import polars as pl
import pytest
from distributed import LocalCluster

from flows.process import process
from pipeline import dataset_url, read_dataset, run_incremental
from pipeline.locations import Remote
from pipeline.store import remote_gc as gc
from pipeline.store.gc import TASK_CACHE_DIR
from pipeline.store.objstore import POINTER, remote_current
from tests.flows import cli_process
from tests.storage import s3_server
from tests.storage.runs import assert_same, canonical, corpus, edit, upload
from tests.support import REPO, gazette, parse_states, write_files

BUCKET = "sitesift-test"


@pytest.fixture(scope="module")
def s3() -> Iterator[s3_server.S3Server]:
    """The server, the AWS variables every S3 client here reads (this process and its children), and
    one bucket."""
    import s3fs

    server = s3_server.start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", server.endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", os.devnull)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        s3fs.S3FileSystem.clear_instance_cache()
        Remote(f"s3://{BUCKET}").fs().mkdir(BUCKET)
        yield server
        s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_run_and_rerun_on_s3_equal_local_runs(s3, tmp_path):
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/full"
    upload(raw, f"{url}/raw")
    first = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work")
    run_incremental(raw, tmp_path / "local")
    assert first["pages"] == 5 + 6 + 4 and first["skipped"] == 0, first
    assert_same(f"{url}/out", tmp_path / "local")
    fs = Remote(url).fs()
    assert fs.cat_file(f"{BUCKET}/full/out/{POINTER}").decode() == first["run_id"]
    assert fs.ls(f"{BUCKET}/full/out", detail=False) == [f"{BUCKET}/full/out/_runs"]  # no links on a store

    edit(raw)
    upload(raw, f"{url}/raw")
    # another machine: an empty work folder, so the state comes from the store
    s3.gate.writes.clear()
    again = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work-2")
    version = f"/{BUCKET}/full/out/_runs/{again['run_id']}/"
    sent = {path[len(version) :]: copied for path, copied in s3.gate.writes if path.startswith(version)}
    assert (
        sent["documents/garden.parquet"] and sent["_state/parsed/garden.pages.parquet"]
    )  # copied in the store
    assert (
        not sent["documents/gazette.parquet"] and not sent["_state/parsed/gazette.pages.parquet"]
    )  # uploaded
    local_again = run_incremental(raw, tmp_path / "local")
    assert (again["pages_new"], again["pages_changed"], again["sites_rebuilt"]) == (1, 1, ["gazette"])
    assert again["parsed"] == local_again["parsed"] < again["pages"], again
    assert_same(f"{url}/out", tmp_path / "local")
    run_incremental(raw, tmp_path / "fresh")
    assert_same(f"{url}/out", tmp_path / "fresh")

    docs = read_dataset(
        f"{url}/out",
        "documents",
        columns=["site", "title", "published"],
        filters=[("site", "==", "herald.example")],
    )
    assert list(docs.columns) == ["site", "title", "published"] and len(docs) == 4
    assert str(docs.published.dtype) == "date32[day][pyarrow]"

    query = "select site, count(*) as pages, count(published) as dated from read_parquet('{}/*.parquet') group by site order by site"
    con = duckdb.connect()
    con.register_filesystem(fs)  # DuckDB reads s3:// through fsspec: no httpfs extension to download
    remote_counts = con.sql(query.format(dataset_url(f"{url}/out", "documents"))).df()
    local_counts = duckdb.sql(query.format(dataset_url(tmp_path / "local", "documents"))).df()
    pd.testing.assert_frame_equal(remote_counts, local_counts)
    assert remote_counts.pages.sum() == again["pages"]
    # polars with its own S3 client (object_store), from the same AWS variables
    by_polars = pl.scan_parquet(f"{dataset_url(f'{url}/out', 'documents')}/*.parquet").group_by("site").len()
    assert sorted(by_polars.collect().rows()) == list(zip(local_counts.site, local_counts.pages))


RUN = (
    "import sys; from pathlib import Path; from pipeline import run_incremental; "
    "run_incremental(sys.argv[1], sys.argv[2], work=Path(sys.argv[3]))"
)


def test_a_run_killed_while_publishing_leaves_the_previous_version_current(s3, tmp_path):
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/killed"
    upload(raw, f"{url}/raw")
    first = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work")
    before = canonical(f"{url}/out")
    edit(raw)
    upload(raw, f"{url}/raw")

    s3.gate.suffix = f"/killed/out/{POINTER}"  # hold the switch: the new version is uploaded by then
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, f"{url}/raw", f"{url}/out", str(tmp_path / "work")], cwd=REPO
    )
    try:
        assert s3.gate.reached.wait(180), "the run never reached its switch"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        s3.gate.suffix = None
        s3.gate.opened.set()
    out = Remote(f"{url}/out")
    assert remote_current(out) == first["run_id"]
    after = canonical(f"{url}/out")
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    versions = [p.rsplit("/", 1)[-1] for p in out.fs().ls(out.key("_runs"), detail=False, refresh=True)]
    assert len(versions) == 3, versions  # the old version, the unpublished one, the pointer

    done = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work")
    assert remote_current(out) == done["run_id"] != first["run_id"]
    assert done["pages_new"] == 1 and done["pages_changed"] == 1
    run_incremental(raw, tmp_path / "fresh")
    assert_same(f"{url}/out", tmp_path / "fresh")
    info = json.loads(out.fs().cat_file(out.key(f"_runs/{done['run_id']}/run.json")))
    assert info["previous"] == first["run_id"]


def test_a_run_killed_after_parsing_leaves_its_parses_in_the_store_for_the_next_machine(s3, tmp_path):
    """Prefect's parse cache is beside the output: the flow started again with an empty work folder
    (another machine) takes every parse from the store and publishes a local run's tables."""
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/cached"
    upload(raw, f"{url}/raw")
    s3.gate.reached.clear()
    s3.gate.opened.clear()
    s3.gate.suffix = f"/cached/out/{POINTER}"  # the parses are done and cached by then
    args = ["run", "--raw", f"{url}/raw", "--out", f"{url}/out", "--work", str(tmp_path / "work"), "-q"]
    with cli_process.started(args, cli_process.cli_env(tmp_path / "home")) as proc:
        try:
            while not s3.gate.reached.wait(0.5):
                assert proc.poll() is None, proc.communicate()[1][-3000:]  # it ended before its switch
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            s3.gate.suffix = None
            s3.gate.opened.set()
    out = Remote(f"{url}/out")
    assert remote_current(out) is None
    assert out.fs().ls(out.key(TASK_CACHE_DIR), detail=False, refresh=True)
    assert not (tmp_path / "work" / TASK_CACHE_DIR).exists()

    elsewhere = tmp_path / "elsewhere"
    state = process(raw=f"{url}/raw", out=f"{url}/out", work=str(elsewhere), workers=0, return_state=True)
    assert state.is_completed()
    states = parse_states(state)
    assert states and set(states) == {"Cached"}, states
    assert not (elsewhere / TASK_CACHE_DIR).exists()
    run_incremental(raw, tmp_path / "local")
    assert_same(f"{url}/out", tmp_path / "local")


def test_gc_on_a_bucket_removes_versions_past_their_grace_and_expired_cache_entries(s3, tmp_path):
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/gc"
    upload(raw, f"{url}/raw")
    work = tmp_path / "work"
    process(raw=f"{url}/raw", out=f"{url}/out", work=str(work), workers=0)  # a version and the cache
    first = remote_current(Remote(f"{url}/out"))
    for _ in range(2):
        run_incremental(f"{url}/raw", f"{url}/out", work=work)
    out = Remote(f"{url}/out")
    before = canonical(f"{url}/out")
    entries = out.fs().find(out.key(TASK_CACHE_DIR))
    assert len(entries) >= 1

    env = cli_process.cli_env(tmp_path / "home")
    done = cli_process.run(["gc", "--out", f"{url}/out", "--dry-run"], env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "old run versions: would remove 0, 0 bytes" in done.stdout  # the oldest was replaced just now
    assert f"{first} (replaced less than 3600 s ago)" in done.stdout
    assert f"task cache entries (older than 30 days): would remove 0 of {len(entries)}" in done.stdout

    later = gc.collect_remote(out, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
    assert [(r.kind, r.path.name) for r in later.removals if r.kind == gc.VERSION] == [(gc.VERSION, first)]
    assert sum(r.kind == gc.CACHE for r in later.removals) == len(entries)
    assert later.freed() > 0
    names = sorted(p.rsplit("/", 1)[-1] for p in out.fs().ls(out.key("_runs"), detail=False, refresh=True))
    assert first not in names and len(names) == 3, names  # two versions and the pointer
    assert out.fs().find(out.key(TASK_CACHE_DIR)) == []
    after = canonical(f"{url}/out")
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)


@pytest.fixture(scope="module")
def cluster(s3) -> Iterator[LocalCluster]:
    """Two worker processes on 127.0.0.1, started after the AWS variables are set (they reach the store)."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c


def done_on(cluster: LocalCluster) -> dict[str, int]:
    """What the workers computed so far, by function."""
    return {name: p.state_counts["memory"] for name, p in cluster.scheduler.task_prefixes.items()}


def test_a_dask_run_to_a_bucket_builds_sites_through_the_store(s3, cluster, tmp_path):
    """Workers that do not share the driver's disk: each site's build fetches its inputs from the store
    and puts its files there; a re-run appends and reuses as a local one."""
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/dask"
    upload(raw, f"{url}/raw")
    before = done_on(cluster)
    run_incremental(
        f"{url}/raw", f"{url}/out", dask_address=cluster.scheduler_address, work=tmp_path / "work"
    )
    edit(raw)
    upload(raw, f"{url}/raw")
    again = run_incremental(
        f"{url}/raw", f"{url}/out", dask_address=cluster.scheduler_address, work=tmp_path / "work"
    )
    after = done_on(cluster)
    ran = {name: n - before.get(name, 0) for name, n in after.items()}
    # 3 sites, then gazette again (garden and herald are reused: hard links made by the driver)
    assert ran.get("build_site_on_store") == 3 + 1 and not ran.get("build_site_job"), ran
    assert ran.get("parse_to_tables", 0) >= 2, ran
    assert again["sites_rebuilt"] == ["gazette"]
    run_incremental(raw, tmp_path / "fresh")
    assert_same(f"{url}/out", tmp_path / "fresh")


def test_the_command_runs_bucket_to_bucket_on_a_dask_cluster(s3, cluster, tmp_path):
    """`sitesift run --raw s3://... --out s3://... --dask-address ...`, as the README says."""
    raw, url = write_files(tmp_path / "raw", corpus()), f"s3://{BUCKET}/cli"
    upload(raw, f"{url}/raw")
    before = done_on(cluster)
    args = ["run", "--raw", f"{url}/raw", "--out", f"{url}/out", "--work", str(tmp_path / "work")]
    env = cli_process.cli_env(tmp_path / "home")
    done = cli_process.run([*args, "--dask-address", cluster.scheduler_address, "-q"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = {name: n - before.get(name, 0) for name, n in done_on(cluster).items()}
    assert ran.get("parse_to_tables", 0) >= 2 and ran.get("build_site_on_store") == 3, ran
    assert f"--out {url}/out" in done.stdout
    run_incremental(raw, tmp_path / "local")
    assert_same(f"{url}/out", tmp_path / "local")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--raw", f"s3://{BUCKET}/nothing-here"], f"error: --raw s3://{BUCKET}/nothing-here does not exist"),
        (
            ["--out", "s3://no-such-bucket/out"],
            "error: --out s3://no-such-bucket/out: bucket no-such-bucket does not exist",
        ),
    ],
)
def test_a_url_the_run_cannot_use_is_one_line_before_prefect_starts(s3, tmp_path, args, line):
    raw = write_files(tmp_path / "raw", gazette())
    done = cli_process.run(
        ["run", "--raw", str(raw), *args], cli_process.cli_env(tmp_path / "home"), timeout=120
    )
    assert (done.returncode, done.stderr.strip()) == (2, line)
