"""The same corpus run on a Dask LocalCluster of 1 and then 2 single-threaded workers
(`run_incremental(raw, out, dask_address=...)`, fresh output each time), alternating with the local
run in this process (workers=0) and on 2 local processes; prints wall time, pages per second, the
driver's peak RSS and the largest worker process's peak RSS. On a 2-core machine two workers can at
most double the one worker's rate, less what the driver (listing, hashing, reading pages,
publishing) and the scheduler take from the same cores.

    .venv/bin/python bench/dask_scaling.py ../shared/eval --copies 6 --singles 100 --repeat 2
    .venv/bin/python bench/dask_scaling.py --generated --sites 4 --pages 100      # generated pages

Real pages are laid out as bench/speed.py lays them out (bench/real_corpus.py): every multi-page
labelled site copied under new host names, plus single labelled pages.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import write_site
from bench.real_corpus import many_sites
from pipeline import run_incremental

SIDES: dict[str, tuple[int, int]] = {  # name -> (local worker processes, Dask workers)
    "local in process": (0, 0),
    "local 2 processes": (2, 0),
    "dask 1 worker": (0, 1),
    "dask 2 workers": (0, 2),
}


@dataclass
class Measured:
    seconds: float
    driver_mb: float  # peak RSS of this process during the run
    worker_mb: float  # peak RSS of the largest other process of this tree (a parser or Dask worker)


def descendants() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


class PeakRss:
    """Samples this process and its descendants every 0.1 s while a run goes on: the driver (this
    process) and the largest of the others, `only` those (a cluster's processes) or all but `skip`."""

    def __init__(self, only: set[int] | None, skip: set[int]) -> None:
        self.me, self.only, self.skip = psutil.Process(), only, skip
        self.driver = self.worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.driver = max(self.driver, self.me.memory_info().rss)
            for child in self.me.children(recursive=True):
                if child.pid in self.skip or (self.only is not None and child.pid not in self.only):
                    continue
                try:
                    self.worker = max(self.worker, child.memory_info().rss)
                except psutil.Error:
                    continue

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_run(raw: Path, out: Path, workers: int, dask_address: str | None, rss: PeakRss) -> Measured:
    shutil.rmtree(out, ignore_errors=True)
    with rss:
        start = time.perf_counter()
        run_incremental(raw, out, workers=workers, dask_address=dask_address)
        seconds = time.perf_counter() - start
    return Measured(seconds, rss.driver / 1e6, rss.worker / 1e6)


def write_corpus(args: argparse.Namespace, raw: Path) -> tuple[int, str]:
    if args.generated:
        for s in range(args.sites):
            write_site(raw, f"site{s}", 0, args.pages, seed=s)
        return args.sites * args.pages, f"{args.sites} generated sites x {args.pages} pages"
    pages = many_sites(args.data_dir, raw, args.copies, args.singles)
    sites = len({p.site for p in pages})
    return len(
        pages
    ), f"{len(pages)} real pages of {sites} sites ({args.copies} copies, {args.singles} singles)"


def main() -> None:
    from distributed import LocalCluster

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path, nargs="?", default=Path("../shared/eval"))
    ap.add_argument("--copies", type=int, default=6, help="copies of each multi-page site (default 6)")
    ap.add_argument("--singles", type=int, default=100, help="single pages taken (default 100)")
    ap.add_argument("--generated", action="store_true", help="generated pages instead of real ones")
    ap.add_argument("--sites", type=int, default=4, help="with --generated")
    ap.add_argument("--pages", type=int, default=100, help="pages per site, with --generated")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--sides", help="comma-separated, of: " + ", ".join(SIDES) + " (default: all)")
    args = ap.parse_args()
    sides = {name: SIDES[name] for name in (args.sides.split(",") if args.sides else SIDES)}
    root = Path(tempfile.mkdtemp(prefix="sitesift-dask-bench-"))
    raw = root / "raw"
    pages, corpus = write_corpus(args, raw)
    results: dict[str, list[Measured]] = {name: [] for name in sides}
    clusters, processes = {}, {}
    for n in sorted({n for _, n in sides.values() if n}):
        before = descendants()
        clusters[n] = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.WARNING,
        )
        processes[n] = descendants() - before
    of_clusters = set().union(*processes.values())
    try:
        for _ in range(args.repeat):
            for name, (workers, n) in sides.items():
                address = clusters[n].scheduler_address if n else None
                rss = PeakRss(processes[n], set()) if n else PeakRss(None, of_clusters)
                results[name].append(timed_run(raw, root / "out", workers, address, rss))
    finally:
        for cluster in clusters.values():
            cluster.close()
        shutil.rmtree(root, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{corpus}, median of {args.repeat}; load average {load}; {os.cpu_count()} cores")
    print("| run | wall time | pages/s | driver peak RSS | largest worker peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        median = statistics.median(r.seconds for r in runs)
        driver = max(r.driver_mb for r in runs)
        worker = max(r.worker_mb for r in runs)
        print(f"| {name} | {median:.1f} s | {pages / median:.1f} | {driver:.0f} MB | {worker:.0f} MB |")


if __name__ == "__main__":
    main()
