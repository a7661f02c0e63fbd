"""Stage benchmark (not a test): sitesift's stages against the naive way, on a generated multi-site
HTML corpus (bench/generate.py), in one run.

    python bench/stages.py --sizes 1000 10000 [--sites 10] [--workers 2]

Per size it prints, side by side:
  block signatures   numpy bulk MinHash (datasketch-identical; each distinct text once, as the pipeline
                     does) vs a datasketch.MinHash per block; also per distinct text
  LSH clustering     banding + grouping + connected components vs MinHashLSH insert + query all
  end to end         `run_incremental` on N worker processes vs trafilatura.bare_extraction alone on
                     N processes (each measured in a fresh subprocess, with the peak of its RSS summed
                     over the process and its workers, sampled every 0.2 s); `--repeat N` runs the
                     two N times, alternately, and reports medians (wall times on a shared machine
                     vary by 20-30% from run to run)
The naive signature and LSH baselines run on at most 50,000 blocks (they are slow); throughput is per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import write_site  # noqa: E402
from pipeline.config import ExtractConfig  # noqa: E402

NAIVE_BLOCKS = 50_000


def make_corpus(raw: Path, pages: int, sites: int) -> None:
    per = pages // sites
    for s in range(sites):
        write_site(raw, f"site{s:02d}.example", 0, per)


def sample_blocks(raw: Path, limit: int) -> list[str]:
    from pipeline.clean.main_content import norm_tokens
    from pipeline.clean.segment_html import parse_html, segment_html

    texts: list[str] = []
    for f in sorted(raw.rglob("*.html")):
        texts += [norm_tokens(b.text) for b in segment_html(parse_html(f.read_text(encoding="utf-8")))]
        if len(texts) >= limit:
            break
    return [t for t in texts[:limit] if t]


def best_of(n: int, fn) -> float:
    """Shortest of n timings of fn() in seconds."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_traced(fn) -> int:
    """Peak bytes Python allocated (tracemalloc) while fn() ran."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_signatures(texts: list[str]) -> dict:
    """The stage as the pipeline runs it (every block of the sample, each distinct text signed once)
    and on the distinct texts alone, against one datasketch MinHash per block."""
    import xxhash
    from datasketch import MinHash

    from pipeline.clean.boilerplate import text_signatures
    from pipeline.clean.minhash import block_signatures, char_shingles
    from pipeline.config import BoilerplateConfig, MinHashConfig

    cfg = MinHashConfig()

    def as_the_pipeline_does() -> (
        None
    ):  # text_clusters: sign the sorted distinct texts, then every block is one of them
        distinct = sorted(set(texts))
        row_of = {t: i for i, t in enumerate(distinct)}
        text_signatures(distinct, cfg, BoilerplateConfig())[[row_of[t] for t in texts]]

    distinct = sorted(set(texts))
    fast = best_of(
        3, as_the_pipeline_does
    )  # ~0.1 s each: a single timing is at the mercy of the machine's noise
    fast_distinct = best_of(3, lambda: block_signatures(distinct, 4, cfg))
    t0 = time.perf_counter()  # the naive loop starts from the text too: shingle, then one MinHash per block
    for t in texts:
        m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, scheme=cfg.scheme, hashfunc=xxhash.xxh32_intdigest)
        m.update_batch([x.encode() for x in char_shingles(t, 4)])
    naive = time.perf_counter() - t0
    naive_rate = len(texts) / naive
    return {
        "blocks": len(texts),
        "distinct": len(distinct),
        "sitesift_per_s": len(texts) / fast,
        "naive_per_s": naive_rate,
        "speedup": naive / fast,
        "distinct_per_s": len(distinct) / fast_distinct,
        "distinct_speedup": (len(distinct) / fast_distinct) / naive_rate,
    }


def bench_lsh(texts: list[str]) -> dict:
    from datasketch import MinHashLSH

    from pipeline.clean import lsh
    from pipeline.clean.minhash import block_signatures, to_datasketch
    from pipeline.config import BoilerplateConfig, MinHashConfig

    mh, bp = MinHashConfig(), BoilerplateConfig()
    sigs = block_signatures(texts, 4, mh)
    objs = [to_datasketch(row, mh) for row in sigs]

    def ours() -> None:
        lsh.cluster(sigs, bp.bands, bp.rows, bp.threshold)

    def naive_lsh() -> None:
        index = MinHashLSH(threshold=bp.threshold, num_perm=mh.num_perm, params=(bp.bands, bp.rows))
        for i, m in enumerate(objs):
            index.insert(i, m)
        for m in objs:
            index.query(m)

    # timed without tracemalloc (it slows Python-level work, the naive side most), memory in a run of its own
    fast, naive = best_of(3, ours), best_of(1, naive_lsh)
    fast_mem, naive_mem = peak_traced(ours), peak_traced(naive_lsh)
    return {
        "signatures": len(sigs),
        "sitesift_s": fast,
        "naive_s": naive,
        "speedup": naive / fast,
        "sitesift_peak_mb": fast_mem / 1e6,
        "naive_peak_mb": naive_mem / 1e6,
    }


_E2E = """
import json, os, sys, threading, time
from pathlib import Path
sys.path.insert(0, {root!r})
raw, out, workers, mode, sample = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])

def tree_rss_mb():  # this process and all its descendants (forkserver, parser workers), summed
    parent, rss = dict(), dict()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
            parent[int(pid)], rss[int(pid)] = int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError):
            pass
    mine, grew = {{os.getpid()}}, True
    while grew:
        new = {{p for p, pp in parent.items() if pp in mine}} - mine
        mine |= new
        grew = bool(new)
    return sum(rss.get(p, 0) for p in mine) / 2**20

peak = [0.0]
def sample_rss():
    while True:
        peak[0] = max(peak[0], tree_rss_mb())
        time.sleep(0.2)
threading.Thread(target=sample_rss, daemon=True).start()
t0 = time.perf_counter()
if mode == "sitesift":
    from pipeline.config import ExtractConfig, PipelineConfig
    from pipeline import run_incremental
    cfg = PipelineConfig(extract=ExtractConfig(layout_sample=sample))
    pages = run_incremental(raw, out, cfg, workers=workers)["pages"]
else:
    import trafilatura
    from concurrent.futures import ProcessPoolExecutor
    files = sorted(str(p) for p in raw.rglob("*.html"))
    def one(path):
        return bool(trafilatura.bare_extraction(open(path, encoding="utf-8", errors="replace").read(), with_metadata=True))
    with ProcessPoolExecutor(workers) as pool:
        pages = sum(pool.map(one, files, chunksize=16))
wall = time.perf_counter() - t0
print(json.dumps({{"pages": pages, "seconds": wall, "peak_rss_mb": peak[0]}}))
"""


def bench_end_to_end(raw: Path, workers: int, mode: str, layout_sample: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _E2E.format(root=str(ROOT)),
                str(raw),
                out,
                str(workers),
                mode,
                str(layout_sample),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def paired_end_to_end(raw: Path, workers: int, layout_sample: int, repeat: int) -> tuple[dict, dict, list]:
    """sitesift and trafilatura alone `repeat` times, alternately (so that a slow spell of the machine
    hits both); medians of seconds and peak RSS, and each pair's ratio."""
    import statistics

    runs = [
        (
            bench_end_to_end(raw, workers, "sitesift", layout_sample),
            bench_end_to_end(raw, workers, "trafilatura", layout_sample),
        )
        for _ in range(repeat)
    ]

    def median(side: int) -> dict:
        return {
            "pages": runs[0][side]["pages"],
            "seconds": statistics.median(r[side]["seconds"] for r in runs),
            "peak_rss_mb": statistics.median(r[side]["peak_rss_mb"] for r in runs),
        }

    return median(0), median(1), [t["seconds"] / o["seconds"] for o, t in runs]


def end_to_end_line(ours: dict, traf: dict, ratios: list) -> str:
    spread = (
        f"; per pair {min(ratios):.2f}-{max(ratios):.2f}x over {len(ratios)} pairs" if len(ratios) > 1 else ""
    )
    return (
        f"sitesift {ours['pages'] / ours['seconds']:.1f} pages/s ({ours['seconds']:.1f} s, peak RSS "
        f"{ours['peak_rss_mb']:.0f} MB); trafilatura alone {traf['pages'] / traf['seconds']:.1f} pages/s "
        f"({traf['seconds']:.1f} s, peak RSS {traf['peak_rss_mb']:.0f} MB) -> {traf['seconds'] / ours['seconds']:.2f}x"
        f"{spread}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--sites", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--real", type=Path, help="instead: end to end only, on this raw folder of real pages")
    ap.add_argument(
        "--layout-sample", type=int, default=ExtractConfig().layout_sample, help="sitesift's --layout-sample"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="end to end: this many alternate pairs of runs, medians reported",
    )
    args = ap.parse_args()
    if args.real:
        ours, traf, ratios = paired_end_to_end(args.real, args.workers, args.layout_sample, args.repeat)
        print(
            f"end to end on {args.real.name} ({ours['pages']} pages, {args.workers} workers, layout sample "
            f"{args.layout_sample}): {end_to_end_line(ours, traf, ratios)}"
        )
        return
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="sitesift-stages-") as tmp:
            raw = Path(tmp) / "raw"
            make_corpus(raw, size, args.sites)
            texts = sample_blocks(raw, NAIVE_BLOCKS)
            sig = bench_signatures(texts)
            lsh_r = bench_lsh(texts)
            lsh_d = bench_lsh(sorted(set(texts)))  # distinct texts only: what the pipeline clusters
            ours, traf, ratios = paired_end_to_end(raw, args.workers, args.layout_sample, args.repeat)
        print(f"\n== {size} pages, {args.sites} sites, {args.workers} workers ==")
        print(
            f"block signatures ({sig['blocks']} blocks, {sig['distinct']} distinct): sitesift "
            f"{sig['sitesift_per_s']:,.0f} blocks/s, datasketch per block {sig['naive_per_s']:,.0f}/s -> "
            f"{sig['speedup']:.0f}x; distinct texts only {sig['distinct_per_s']:,.0f}/s -> "
            f"{sig['distinct_speedup']:.1f}x"
        )
        print(
            f"LSH clustering ({lsh_r['signatures']} sigs): sitesift {lsh_r['sitesift_s']:.2f} s "
            f"({lsh_r['sitesift_peak_mb']:.0f} MB peak), MinHashLSH {lsh_r['naive_s']:.2f} s "
            f"({lsh_r['naive_peak_mb']:.0f} MB peak) -> {lsh_r['speedup']:.0f}x"
        )
        print(
            f"LSH clustering, distinct texts only ({lsh_d['signatures']} sigs): sitesift {lsh_d['sitesift_s']:.2f} s "
            f"({lsh_d['sitesift_peak_mb']:.0f} MB peak), MinHashLSH {lsh_d['naive_s']:.2f} s "
            f"({lsh_d['naive_peak_mb']:.0f} MB peak) -> {lsh_d['speedup']:.0f}x"
        )
        print(f"end to end: {end_to_end_line(ours, traf, ratios)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
