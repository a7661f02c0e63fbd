"""The two in-Python sides of bench/speed.py, each run as its own process so that its whole cost
(interpreter, imports, pool start-up) is timed and its process tree measured:

    python -m bench.speed_sides trafilatura PAGES.jsonl WORKERS   # trafilatura alone, as users call it
    python -m bench.speed_sides library RAW OUT WORKERS           # pipeline.run_incremental

Prints one JSON line: pages handled.
"""

from __future__ import annotations

import gzip
import json
import sys
from multiprocessing import Pool
from pathlib import Path


def extract(page: tuple[str, str | None]) -> bool:
    """One page through trafilatura at its defaults, metadata on."""
    import trafilatura

    path, url = page
    data = Path(path).read_bytes()
    html = gzip.decompress(data) if path.endswith(".gz") else data
    return trafilatura.bare_extraction(html, url=url, with_metadata=True) is not None


def trafilatura_alone(listing: Path, workers: int) -> int:
    rows = [json.loads(line) for line in listing.read_text(encoding="utf8").splitlines() if line]
    pages = [(r["path"], r["url"]) for r in rows]
    with Pool(workers) as pool:
        return sum(1 for _ in pool.imap_unordered(extract, pages, chunksize=8))


def library(raw: Path, out: Path, workers: int) -> int:
    from pipeline import run_incremental

    return int(run_incremental(raw, out, workers=workers)["pages"])


def main() -> None:
    side = sys.argv[1]
    if side == "trafilatura":
        n = trafilatura_alone(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        n = library(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps({"pages": n}))


if __name__ == "__main__":
    main()
