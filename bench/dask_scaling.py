"""The same generated corpus run on a Dask LocalCluster of 1 and then 2 single-threaded workers
(`run_incremental(raw, out, dask_address=...)`, fresh output each time), alternating, against the
local run with one process; prints wall time and pages per second. On a 2-core machine two workers
can at most double the one worker's rate, less what the driver (listing, hashing, reading pages,
publishing) and the scheduler take from the same cores.

    .venv/bin/python bench/dask_scaling.py --sites 4 --pages 100 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import write_site
from pipeline import run_incremental


def timed_run(raw: Path, out: Path, dask_address: str | None) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    summary = run_incremental(raw, out, dask_address=dask_address)
    return time.perf_counter() - start, summary


def main() -> None:
    from distributed import LocalCluster

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=4)
    ap.add_argument("--pages", type=int, default=100, help="pages per site")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sitesift-dask-bench-"))
    raw = root / "raw"
    for s in range(args.sites):
        write_site(raw, f"site{s}", 0, args.pages, seed=s)
    pages = args.sites * args.pages
    times: dict[str, list[float]] = {"local, 1 process": [], "dask, 1 worker": [], "dask, 2 workers": []}
    clusters = {
        n: LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        for n in (1, 2)
    }
    try:
        for _ in range(args.repeat):
            times["local, 1 process"].append(timed_run(raw, root / "out", None)[0])
            for n, cluster in clusters.items():
                key = f"dask, {n} worker{'s' if n > 1 else ''}"
                times[key].append(timed_run(raw, root / "out", cluster.scheduler_address)[0])
    finally:
        for cluster in clusters.values():
            cluster.close()
        shutil.rmtree(root, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{args.sites} sites x {args.pages} pages = {pages} pages, median of {args.repeat}; load average {load}"
    )
    print("| run | wall time | pages/s |")
    print("|---|---:|---:|")
    for key, values in times.items():
        median = statistics.median(values)
        print(f"| {key} | {median:.1f} s | {pages / median:.1f} |")


if __name__ == "__main__":
    main()
