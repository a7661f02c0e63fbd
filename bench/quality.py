"""Quality benchmark (not a test): sitesift against trafilatura alone, on labelled pages.

    python bench/quality.py ../shared/eval                        # every set found there
    python bench/quality.py ../shared/eval --set wcxb_dev
    python bench/quality.py ../shared/eval --layout-sample 0 --layout-sample 8
                                          # one sitesift row per layout sample size (0: extract every page)
    python bench/quality.py ../shared/eval --pages out.jsonl       # per-page scores of both systems

DATA_DIR is laid out like shared/eval (see its README): <set>/ground_truth.jsonl, <set>/html/...,
and for multi-page sites <set>/manifest.jsonl listing every page. sitesift runs through its
production entry, `pipeline.run_incremental(raw, out, cfg, workers=2)`, on a raw folder built per
set: every page with a URL becomes a response record of one WARC file (the URL is the target URI, so
pages are grouped into sites by host as a crawl would be), a page without one a plain file. Whole
sites are fed (unlabelled listing pages are what the cross-page statistics learn from); only
labelled pages are scored, from the `documents` Parquet output. trafilatura alone runs at its
defaults with metadata on: `bare_extraction(html_bytes, url=url, with_metadata=True)`.

Scoring follows the eval README: title exact after case/space folding, published (and updated) date
exact, bag-of-tokens precision/recall/F1 per page then averaged, must_contain found, must_not_contain
leaked. A page a system gives no text for is "dropped" and counts as F1 0, its title and dates wrong.
Rows: each set, and for sets with a `page_type` each page type.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+")
METRICS = ["F1", "P", "R", "contain", "leak", "title", "published", "updated", "dropped"]
HEAD = {
    "F1": "body F1",
    "P": "P",
    "R": "R",
    "contain": "snippets found",
    "leak": "leaks",
    "title": "titles exact",
    "published": "published exact",
    "updated": "updated exact",
    "dropped": "dropped",
}


def tokenize(text: str | None) -> list[str]:
    return _TOKEN.findall(text.lower()) if text else []


def norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip().casefold()


def flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def load_set(data_dir: Path, name: str) -> tuple[list[dict], list[dict]]:
    """(labelled records, every page of the set: the manifest of a site set, else the records)."""
    base = data_dir / name
    lines = (base / "ground_truth.jsonl").read_text(encoding="utf8").splitlines()
    records = [json.loads(x) for x in lines if x.strip()]
    manifest = base / "manifest.jsonl"
    if manifest.exists():
        pages = [json.loads(x) for x in manifest.read_text(encoding="utf8").splitlines() if x.strip()]
    else:
        pages = [{"page_path": r["page_path"], "url": r.get("url")} for r in records]
    return records, pages


def prf(pred: str | None, truth: str | None) -> tuple[float, float, float]:
    p, t = Counter(tokenize(pred)), Counter(tokenize(truth))
    overlap = sum((p & t).values())
    precision = overlap / sum(p.values()) if p else 0.0
    recall = overlap / sum(t.values()) if t else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score_page(rec: dict, pred: dict | None) -> dict:
    """One labelled page's scores (only the metrics its ground truth has)."""
    pred = pred or {}
    text = pred.get("text") or ""
    row: dict = {"dropped": float(not text.strip())}
    if rec.get("title"):
        row["title"] = float(bool(text.strip()) and norm(pred.get("title")) == norm(rec["title"]))
    for key in ("published", "updated"):
        if rec.get(key):
            row[key] = float((pred.get(key) or "")[:10] == rec[key])
    if rec.get("body_text"):
        row["P"], row["R"], row["F1"] = prf(text, rec["body_text"])
    if rec.get("must_contain"):
        row["contain"] = sum(flat(s) in flat(text) for s in rec["must_contain"]) / len(rec["must_contain"])
    if rec.get("must_not_contain"):
        row["leak"] = sum(flat(s) in flat(text) for s in rec["must_not_contain"]) / len(
            rec["must_not_contain"]
        )
    return row


def average(rows: list[dict]) -> dict:
    out: dict = {}
    for k in METRICS:
        vals = [r[k] for r in rows if k in r]
        out[k] = None if not vals else (sum(vals) if k == "dropped" else sum(vals) / len(vals))
    return out


def write_raw(data_dir: Path, name: str, pages: list[dict], raw: Path) -> dict[str, str]:
    """The set as a raw folder: pages with a URL as records of one WARC file, the others as files.
    Returns how to find each page in the output: "url:<url>" or "source:<source>" -> page_path."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder = raw / name
    folder.mkdir(parents=True)
    keys: dict[str, str] = {}
    with open(folder / "pages.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for p in pages:
            data = read_bytes(data_dir / name / p["page_path"])
            if p.get("url"):
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    p["url"], "response", payload=io.BytesIO(data), http_headers=headers
                )
                writer.write_record(record)
                keys[f"url:{p['url']}"] = p["page_path"]
            else:
                target = folder / "files" / p["page_path"].removesuffix(".gz")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                keys[f"source:{target.relative_to(raw).as_posix()}"] = p["page_path"]
    return keys


def run_sitesift(data_dir: Path, name: str, pages: list[dict], layout_sample: int | None, workers: int):
    """Per page_path: title, published, updated, text from `documents`; and the seconds the run took."""
    import pyarrow.dataset as ds

    from pipeline import run_incremental
    from pipeline.config import ExtractConfig, PipelineConfig

    extract = ExtractConfig() if layout_sample is None else ExtractConfig(layout_sample=layout_sample)
    cfg = PipelineConfig(extract=extract)
    with tempfile.TemporaryDirectory(prefix="sitesift-quality-") as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        keys = write_raw(data_dir, name, pages, raw)
        t0 = time.perf_counter()
        run_incremental(raw, out, cfg, workers=workers)
        elapsed = time.perf_counter() - t0
        cols = ["url", "source", "title", "published", "updated", "text"]
        rows = ds.dataset(out / "documents", format="parquet").to_table(columns=cols).to_pylist()
    preds = {}
    for d in rows:
        path = keys.get(f"url:{d['url']}") or keys.get(f"source:{d['source']}")
        if path:
            preds[path] = {
                "title": d["title"],
                "published": d["published"].isoformat() if d["published"] else None,
                "updated": d["updated"].isoformat() if d["updated"] else None,
                "text": d["text"],
            }
    return preds, elapsed


def run_trafilatura(data_dir: Path, name: str, pages: list[dict], cache: Path | None):
    """trafilatura alone at its defaults, metadata on; cached per set and version when asked."""
    import trafilatura

    cached = cache / f"trafilatura-{trafilatura.__version__}-{name}.json" if cache else None
    if cached and cached.exists():
        got = json.loads(cached.read_text(encoding="utf8"))
        return got["preds"], got["seconds"]
    preds = {}
    t0 = time.perf_counter()
    for p in pages:
        html = read_bytes(data_dir / name / p["page_path"])
        doc = trafilatura.bare_extraction(html, url=p.get("url"), with_metadata=True)
        if doc is not None:
            preds[p["page_path"]] = {"title": doc.title, "published": doc.date, "text": doc.text}
    seconds = time.perf_counter() - t0
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps({"preds": preds, "seconds": seconds}), encoding="utf8")
    return preds, seconds


def fmt(v: float | None, k: str) -> str:
    if v is None:
        return "-"
    return f"{int(v)}" if k == "dropped" else f"{v:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--set", action="append", help="only this set (repeatable)")
    ap.add_argument(
        "--layout-sample",
        type=int,
        action="append",
        help="sitesift's --layout-sample (repeatable: one row each); default: the configured one",
    )
    ap.add_argument("--workers", type=int, default=2, help="sitesift's parser processes (default 2)")
    ap.add_argument("--cache", type=Path, help="keep trafilatura's own predictions here between runs")
    ap.add_argument("--pages", type=Path, help="write every labelled page's scores here (JSON lines)")
    args = ap.parse_args()
    sets = args.set or sorted(p.name for p in args.data_dir.iterdir() if (p / "ground_truth.jsonl").exists())
    systems: list[int | None] = args.layout_sample or [None]
    print("| set | pages | system | " + " | ".join(HEAD[k] for k in METRICS) + " | pages/s |")
    print("|---|---:|---|" + "---:|" * (len(METRICS) + 1))
    dump = open(args.pages, "w", encoding="utf8") if args.pages else None  # noqa: SIM115
    for name in sets:
        records, pages = load_set(args.data_dir, name)
        labelled = {r["page_path"] for r in records}
        runs = {}
        preds, secs = run_trafilatura(
            args.data_dir, name, [p for p in pages if p["page_path"] in labelled], args.cache
        )
        runs["trafilatura"] = (preds, len(labelled) / secs)
        for n in systems:
            preds, secs = run_sitesift(args.data_dir, name, pages, n, args.workers)
            runs["sitesift" if n is None else f"sitesift/{n}"] = (preds, len(pages) / secs)
        groups: dict[str, list[dict]] = defaultdict(list)
        for rec in records:
            groups[name].append(rec)
            if rec.get("page_type"):
                groups[f"{name} / {rec['page_type']}"].append(rec)
        for group, recs in sorted(groups.items(), key=lambda g: (g[0] != name, -len(g[1]), g[0])):
            for system, (preds, speed) in runs.items():
                s = average([score_page(r, preds.get(r["page_path"])) for r in recs])
                cells = " | ".join(fmt(s[k], k) for k in METRICS)
                rate = f"{speed:.1f}" if group == name else ""
                print(f"| {group} | {len(recs)} | {system} | {cells} | {rate} |", flush=True)
        if dump:
            for rec in records:
                row = {"set": name, "page_path": rec["page_path"], "page_type": rec.get("page_type")}
                for system, (preds, _) in runs.items():
                    row[system] = score_page(rec, preds.get(rec["page_path"]))
                dump.write(json.dumps(row) + "\n")
    if dump:
        dump.close()


if __name__ == "__main__":
    main()
