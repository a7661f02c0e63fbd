"""Incremental re-run benchmark (not a test): a generated site of 5,000 HTML pages, a full run, then a
re-run after 50 pages are added, in one process.

    python bench/incremental.py [--pages 5000] [--added 50] [--layout-sample 16]

Target: the re-run takes under 5% of the full run's time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.generate import write_site
from pipeline import run_incremental
from pipeline.config import ExtractConfig, PipelineConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--added", type=int, default=50)
    ap.add_argument(
        "--layout-sample",
        type=int,
        default=ExtractConfig().layout_sample,
        help="sitesift's --layout-sample (0: extract every page)",
    )
    args = ap.parse_args()
    cfg = PipelineConfig(extract=ExtractConfig(layout_sample=args.layout_sample))
    tmp = Path(tempfile.mkdtemp(prefix="sitesift-incr-bench-"))
    raw, out = tmp / "raw", tmp / "processed"
    write_site(raw, "bench.example", 0, args.pages)
    t0 = time.perf_counter()
    full = run_incremental(raw, out, cfg)
    t_full = time.perf_counter() - t0
    write_site(raw, "bench.example", args.pages, args.added)
    t0 = time.perf_counter()
    again = run_incremental(raw, out, cfg)
    t_again = time.perf_counter() - t0
    print(f"{'run':10s} {'pages':>6s} {'parsed':>6s} {'seconds':>8s} {'share':>7s}")
    print(f"{'full':10s} {full['pages']:6d} {full['parsed']:6d} {t_full:8.2f} {1:7.1%}")
    print(f"{'re-run':10s} {again['pages']:6d} {again['parsed']:6d} {t_again:8.2f} {t_again / t_full:7.1%}")
    print(f"sites appended: {again.get('sites_appended')}, re-learned: {again['sites_rebuilt']}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
