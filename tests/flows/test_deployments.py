"""prefect.yaml's deployments: each is served from its entrypoint and run once against the
temporary Prefect server of the test session."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import yaml
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import get_current_settings

from tests.support import REPO

SERVE = """
import sys, yaml
from prefect.flows import load_flow_from_entrypoint
spec = yaml.safe_load(open("prefect.yaml"))
dep = next(d for d in spec["deployments"] if d["name"] == sys.argv[1])
flow = load_flow_from_entrypoint(dep["entrypoint"])
flow.serve(name=dep["name"], parameters={**dep.get("parameters", {}), "raw": sys.argv[2], "out": sys.argv[3]},
           pause_on_shutdown=False)
"""


def _wait_for_deployment(name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            try:
                client.read_deployment_by_name(name)
                return
            except Exception:
                time.sleep(0.5)
    raise TimeoutError(f"deployment {name} never appeared")


def test_process_deployment_is_served_and_runs_once(naht_raw, tmp_path):
    out = tmp_path / "processed"
    api = get_current_settings().api.url
    env = {**os.environ, "PREFECT_API_URL": str(api)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "process-raw", str(naht_raw), str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_deployment("process/process-raw")
        flow_run = run_deployment("process/process-raw", timeout=240)
        assert flow_run.state.is_completed(), flow_run.state
        docs = pd.read_parquet(out / "documents")
        assert len(docs) == 5 and docs.published.notna().all()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_nightly_crawl_deployment_is_scheduled_with_a_timezone():
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    crawl = next(d for d in spec["deployments"] if d["name"] == "nightly-crawl")
    (schedule,) = crawl["schedules"]
    assert schedule["cron"] and schedule["timezone"] and crawl["parameters"]["process_after"] is True
