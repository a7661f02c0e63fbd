"""Speed benchmark on real pages (not a test): trafilatura alone, `pipeline.run_incremental` and
`sitesift run`, paired and alternating, medians, peak memory of each one's whole process tree.

    python bench/speed.py ../shared/eval                       # ~3,000 pages of 30+ sites, 3 rounds
    python bench/speed.py ../shared/eval --copies 2 --singles 200 --repeat 2   # a small corpus
    python bench/speed.py ../shared/eval --large 20000         # one site of 20,000 varied real pages
    python bench/speed.py ../shared/eval --rerun               # also: +1% new pages, re-run, its share
    python bench/speed.py ../shared/eval --prefect-api-url http://127.0.0.1:4200/api   # a running server

The corpus (bench/real_corpus.py) is written as raw WARC folders as bench/quality.py writes its input.
Each round runs every side once as its own process, in an order that rotates from round to round, each
on a fresh output folder:
  trafilatura  `trafilatura.bare_extraction(html, url=url, with_metadata=True)` at its defaults in a
               multiprocessing Pool of WORKERS processes (bench/speed_sides.py)
  library      `pipeline.run_incremental(RAW, OUT, workers=WORKERS)` (bench/speed_sides.py)
  cli          `sitesift run --raw RAW --out OUT --workers WORKERS`, on the temporary API server unless
               --prefect-api-url is given; its PREFECT_HOME is the benchmark's own, warmed by one untimed
               run (the database exists, as on a user's second run)
Seconds are wall time from start to exit; peak memory is the largest sum of RSS over the process and
all its descendants, sampled every 0.1 s (pages shared after a fork count once per process).
With --rerun, after each full library and cli run, 1% new pages (variants of a multi-page site's
pages on its copies' hosts) are added, the side runs again on the same output, and the new pages are
removed again: the re-run's share is its seconds over the full run's of the same round.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.real_corpus import CorpusPage, added_pages, many_sites, one_site, remove  # noqa: E402

SIDES = ("trafilatura", "library", "cli")


@dataclass
class Timed:
    seconds: float
    peak_mb: float


def tree_rss(proc: psutil.Process) -> int:
    """RSS of the process and every descendant, in bytes (processes that end meanwhile count 0)."""
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in family:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def timed(cmd: list[str], env: dict[str, str], log: Path) -> Timed:
    """Run cmd to its end; wall seconds and the peak RSS of its process tree."""
    peak = [0]
    with open(log, "ab") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        proc = psutil.Process(child.pid)

        def sample() -> None:
            while child.poll() is None:
                peak[0] = max(peak[0], tree_rss(proc))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = child.wait()
        seconds = time.perf_counter() - t0
        sampler.join()
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {code}: see {log}")
    return Timed(seconds, peak[0] / 2**20)


def sitesift_command() -> list[str]:
    script = Path(sys.executable).parent / "sitesift"
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


class Sides:
    """How each side is started, on one raw folder and its page listing."""

    def __init__(self, work: Path, raw: Path, listing: Path, workers: int, api_url: str | None):
        self.work, self.raw, self.listing, self.workers = work, raw, listing, workers
        self.log = work / "stderr.log"
        self.env = dict(os.environ)
        self.env["PREFECT_HOME"] = str(work / "prefect-home")
        if api_url:
            self.env["PREFECT_API_URL"] = api_url
        else:
            self.env.pop("PREFECT_API_URL", None)

    def command(self, side: str, out: Path) -> list[str]:
        w = str(self.workers)
        if side == "trafilatura":
            return [sys.executable, "-m", "bench.speed_sides", "trafilatura", str(self.listing), w]
        if side == "library":
            return [sys.executable, "-m", "bench.speed_sides", "library", str(self.raw), str(out), w]
        return [*sitesift_command(), "run", "--raw", str(self.raw), "--out", str(out), "--workers", w]

    def run(self, side: str, out: Path) -> Timed:
        return timed(self.command(side, out), self.env, self.log)


def write_listing(pages: list[CorpusPage], path: Path) -> None:
    with open(path, "w", encoding="utf8") as fh:
        for p in pages:
            fh.write(json.dumps({"path": str(p.path), "url": p.url}) + "\n")


def warm(sides: Sides, data_dir: Path) -> None:
    """One untimed `sitesift run` on a few pages (Prefect's database created), and every input read
    once (the page cache warm for every side alike)."""
    tiny = sides.work / "warm-raw"
    shutil.rmtree(tiny, ignore_errors=True)
    shutil.rmtree(sides.work / "warm-out", ignore_errors=True)
    many_sites(data_dir, tiny, copies=0, singles=5)
    timed(
        [*sitesift_command(), "run", "--raw", str(tiny), "--out", str(sides.work / "warm-out")],
        sides.env,
        sides.log,
    )
    for f in [
        *sides.raw.rglob("*"),
        *(Path(json.loads(x)["path"]) for x in sides.listing.read_text().splitlines()),
    ]:
        if f.is_file():
            f.read_bytes()


def rounds(
    sides: Sides, names: list[str], repeat: int, rerun: tuple[Path, list[CorpusPage]] | None
) -> dict[str, list[Timed]]:
    results: dict[str, list[Timed]] = {n: [] for n in names}
    if rerun:
        results |= {f"{n} re-run": [] for n in names if n != "trafilatura"}
    for r in range(repeat):
        order = names[r % len(names) :] + names[: r % len(names)]
        for side in order:
            out = sides.work / f"out-{side}"
            shutil.rmtree(out, ignore_errors=True)
            results[side].append(sides.run(side, out))
            if rerun and side != "trafilatura":
                data_dir, corpus = rerun
                added = added_pages(data_dir, corpus, sides.work / "added-src", sides.raw, 0.01)
                results[f"{side} re-run"].append(sides.run(side, out))
                remove(added)
                remove(sides.work / "added-src")
            shutil.rmtree(out, ignore_errors=True)
            for name in (side, f"{side} re-run"):
                if results.get(name) and len(results[name]) == r + 1:
                    t = results[name][-1]
                    print(
                        f"round {r + 1} {name}: {t.seconds:.1f} s, peak {t.peak_mb:,.0f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
    return results


def report(results: dict[str, list[Timed]], pages: int) -> None:
    base = results.get("trafilatura")
    print("| side | median s | pages/s | vs trafilatura alone | per round | peak RSS of the tree (median) |")
    print("|---|---:|---:|---:|---|---:|")
    for side, runs in results.items():
        med = statistics.median(t.seconds for t in runs)
        per_round = ", ".join(f"{t.seconds:.1f}" for t in runs)
        ratio = "-"
        if base and not side.endswith("re-run"):
            pairs = [b.seconds / t.seconds for b, t in zip(base, runs)]
            ratio = f"{statistics.median(base_t.seconds for base_t in base) / med:.2f}x (pairs {min(pairs):.2f}-{max(pairs):.2f})"
        if side.endswith("re-run"):
            full = results[side.removesuffix(" re-run")]
            shares = [t.seconds / f.seconds for t, f in zip(runs, full)]
            ratio = f"share of full run {statistics.median(shares):.1%}"
        rate = "-" if side.endswith("re-run") else f"{pages / med:.0f}"
        peak = statistics.median(t.peak_mb for t in runs)
        print(f"| {side} | {med:.1f} | {rate} | {ratio} | {per_round} | {peak:,.0f} MB |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, nargs="?", default=Path("../shared/eval"))
    ap.add_argument("--copies", type=int, default=9, help="copies of each multi-page site (default 9)")
    ap.add_argument("--singles", type=int, help="single pages taken (default: all)")
    ap.add_argument("--large", type=int, help="instead: one site of this many varied pages")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sides", default=",".join(SIDES), help="comma-separated, of: " + ", ".join(SIDES))
    ap.add_argument("--rerun", action="store_true", help="also time a re-run after +1%% new pages")
    ap.add_argument("--prefect-api-url", help="run the cli side against this Prefect server")
    ap.add_argument("--work", type=Path, help="work folder (kept; default: a temporary one, removed)")
    args = ap.parse_args()
    names = [s for s in args.sides.split(",") if s]
    work = args.work or Path(tempfile.mkdtemp(prefix="sitesift-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    raw = work / "raw"
    try:
        shutil.rmtree(raw, ignore_errors=True)
        if args.large:
            shutil.rmtree(work / "src", ignore_errors=True)
            corpus = one_site(args.data_dir, work / "src", raw, args.large)
        else:
            corpus = many_sites(args.data_dir, raw, args.copies, args.singles)
        listing = work / "pages.jsonl"
        write_listing(corpus, listing)
        sides = Sides(work, raw, listing, args.workers, args.prefect_api_url)
        sites = len({p.site for p in corpus})
        size = sum(f.stat().st_size for f in raw.rglob("*") if f.is_file())
        if "cli" in names:
            warm(sides, args.data_dir)
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        results = rounds(sides, names, args.repeat, (args.data_dir, corpus) if args.rerun else None)
        load_after = os.getloadavg()
        print(
            f"{len(corpus)} pages of {sites} sites ({size / 2**20:.0f} MB of WARC), {args.workers} workers, "
            f"{args.repeat} rounds in {time.perf_counter() - t0:.0f} s; load average (1, 5, 15 min) before "
            f"{', '.join(f'{x:.1f}' for x in load_before)}, after {', '.join(f'{x:.1f}' for x in load_after)}"
        )
        report(results, len(corpus))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
