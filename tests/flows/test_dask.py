"""The whole run on a real Dask cluster (2 worker processes on 127.0.0.1): page chunks are parsed and
sites built on the workers, and the tables equal a local run's."""

from __future__ import annotations

import pytest
from distributed import LocalCluster

from flows.process import process
from tests.support import assert_same_tables, drift_site, gazette, write_files


@pytest.fixture
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c


def test_dask_cluster_run_equals_local_run(naht_raw, tmp_path, cluster):
    write_files(naht_raw, {**drift_site(), **gazette()})
    local = process(raw=str(naht_raw), out=str(tmp_path / "local"), workers=0)
    remote = process(
        raw=str(naht_raw), out=str(tmp_path / "dask"), workers=0, dask_address=cluster.scheduler_address
    )
    assert remote["pages"] == local["pages"] == 16
    assert_same_tables(tmp_path / "dask", tmp_path / "local")
    # what the workers computed, by function: every page chunk (16 pages, 8 a task) and every site
    done = {name: p.state_counts["memory"] for name, p in cluster.scheduler.task_prefixes.items()}
    assert done.get("parse_to_tables", 0) >= 2, done
    assert done.get("build_site_job", 0) == len(local["sites"]) == 3, done
