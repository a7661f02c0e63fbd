"""gs:// through gcsfs, against a GCS emulator on 127.0.0.1 (gcp-storage-emulator, in memory, one for
the module): raw pages and a WARC in a bucket, the output in the bucket; a full run and an incremental
re-run from an empty work folder give a local run's tables, and the CLI runs bucket to bucket."""

from __future__ import annotations

from collections.abc import Iterator

import fsspec.config
import pytest

from pipeline import read_dataset, run_incremental
from pipeline.locations import Remote
from pipeline.store.objstore import POINTER
from tests.flows import cli_process
from tests.storage import gcs_server
from tests.storage.runs import assert_same, corpus, edit, upload
from tests.support import write_files

BUCKET = "sitesift-gcs-test"


@pytest.fixture(scope="module")
def gcs() -> Iterator[gcs_server.GcsServer]:
    """The emulator and what every gcsfs client here reads (this process and its children): its
    address, no credentials (so no lookup of Google's metadata server), and no probe of the bucket's
    type over gRPC, which the emulator does not speak (gcsfs reads that switch when it is imported:
    fsspec imports it at the first gs:// use, after this)."""
    server = gcs_server.start(BUCKET)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STORAGE_EMULATOR_HOST", server.endpoint)
        env.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        env.setenv("FSSPEC_GS_TOKEN", "anon")  # fsspec's own configuration, read by child processes
        env.setitem(fsspec.config.conf, "gs", {"token": "anon"})  # ... and by this one
        yield server
    server.stop()


def test_run_and_rerun_on_gcs_equal_local_runs(gcs, tmp_path):
    raw, url = write_files(tmp_path / "raw", corpus()), f"gs://{BUCKET}/full"
    upload(raw, f"{url}/raw")
    first = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work")
    run_incremental(raw, tmp_path / "local")
    assert first["pages"] == 5 + 6 + 4 and first["skipped"] == 0, first
    assert_same(f"{url}/out", tmp_path / "local")
    out = Remote(f"{url}/out")
    assert out.fs().cat_file(out.key(POINTER)).decode() == first["run_id"]

    edit(raw)
    upload(raw, f"{url}/raw")
    again = run_incremental(f"{url}/raw", f"{url}/out", work=tmp_path / "work-2")  # another machine
    local_again = run_incremental(raw, tmp_path / "local")
    assert (again["pages_new"], again["pages_changed"], again["sites_rebuilt"]) == (1, 1, ["gazette"])
    assert again["parsed"] == local_again["parsed"] < again["pages"], again
    assert_same(f"{url}/out", tmp_path / "local")
    docs = read_dataset(
        f"{url}/out", "documents", columns=["site", "title"], filters=[("site", "==", "herald.example")]
    )
    assert len(docs) == 4 and list(docs.columns) == ["site", "title"]


def test_the_command_runs_bucket_to_bucket_on_gcs(gcs, tmp_path):
    raw, url = write_files(tmp_path / "raw", corpus()), f"gs://{BUCKET}/cli"
    upload(raw, f"{url}/raw")
    args = ["run", "--raw", f"{url}/raw", "--out", f"{url}/out", "--work", str(tmp_path / "work"), "-q"]
    done = cli_process.run(args, cli_process.cli_env(tmp_path / "home"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "work" / "_task_cache").exists()  # beside the output, in the bucket
    out = Remote(f"{url}/out")
    assert out.fs().ls(out.key("_task_cache"), detail=False)
    run_incremental(raw, tmp_path / "local")
    assert_same(f"{url}/out", tmp_path / "local")
