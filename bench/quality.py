"""Quality benchmark (not a test): sitesift vs trafilatura alone on labelled pages.

    python bench/quality.py ../shared/eval            # every set found there
    python bench/quality.py ../shared/eval --set site_hugo_rilopez
    python bench/quality.py ../shared/eval --layout-sample 0 --layout-sample 32 --layout-sample 8
                                          # one sitesift row per layout sample size (0: extract every page)

DATA_DIR is laid out like shared/eval (see its README): <set>/ground_truth.jsonl, <set>/html/...,
and for multi-page sites <set>/manifest.jsonl listing every page. Whole sites are fed to sitesift
(unlabelled listing pages are what the cross-page statistics learn from); only labelled pages are
scored. Scoring follows the eval README: title exact after case/space folding, published date exact,
bag-of-tokens precision/recall/F1 per page then averaged, must_contain found, must_not_contain leaked.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.clean.site import build_site
from pipeline.config import ExtractConfig, PipelineConfig
from pipeline.records import RawInput
from pipeline.run import finish, group_by_site, parse_inputs

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+")


def tokenize(text: str | None) -> list[str]:
    return _TOKEN.findall(text.lower()) if text else []


def norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip().casefold()


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def load_set(data_dir: Path, name: str) -> tuple[list[dict], list[dict]]:
    base = data_dir / name
    records = [
        json.loads(x)
        for x in (base / "ground_truth.jsonl").read_text(encoding="utf8").splitlines()
        if x.strip()
    ]
    manifest = base / "manifest.jsonl"
    if manifest.exists():
        pages = [json.loads(x) for x in manifest.read_text(encoding="utf8").splitlines() if x.strip()]
    else:
        pages = [{"page_path": r["page_path"], "url": r["url"]} for r in records]
    return records, pages


def prf(pred: str | None, truth: str | None) -> tuple[float, float, float]:
    p, t = Counter(tokenize(pred)), Counter(tokenize(truth))
    overlap = sum((p & t).values())
    precision = overlap / sum(p.values()) if p else 0.0
    recall = overlap / sum(t.values()) if t else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(records: list[dict], predictions: dict[str, dict]) -> dict:
    rows = []
    for rec in records:
        pred = predictions.get(rec["page_path"], {})
        text = pred.get("text") or ""
        flat = re.sub(r"\s+", " ", text)
        row = {}
        if rec.get("title"):
            row["title"] = float(norm(pred.get("title")) == norm(rec["title"]))
        if rec.get("published"):
            row["date"] = float((pred.get("published") or "")[:10] == rec["published"])
        if rec.get("body_text"):
            row["P"], row["R"], row["F1"] = prf(text, rec["body_text"])
        if rec.get("must_contain"):
            row["contain"] = sum(re.sub(r"\s+", " ", s) in flat for s in rec["must_contain"]) / len(
                rec["must_contain"]
            )
        if rec.get("must_not_contain"):
            row["leak"] = sum(re.sub(r"\s+", " ", s) in flat for s in rec["must_not_contain"]) / len(
                rec["must_not_contain"]
            )
        rows.append(row)
    keys = ["title", "date", "P", "R", "F1", "contain", "leak"]
    return {
        k: (sum(r[k] for r in rows if k in r) / n if (n := sum(k in r for r in rows)) else None) for k in keys
    }


def run_sitesift(
    data_dir: Path, name: str, pages: list[dict], cfg: PipelineConfig
) -> tuple[dict[str, dict], float]:
    inputs = [
        RawInput(
            site_hint=name,
            source=p["page_path"],
            data=read_bytes(data_dir / name / p["page_path"]),
            kind="html",
            url=p.get("url"),
        )
        for p in pages
    ]
    t0 = time.perf_counter()
    parsed, skipped = parse_inputs(inputs, cfg)
    results = [build_site(site, ps, cfg) for site, ps in group_by_site(parsed).items()]
    out = finish(results, skipped, cfg, n_inputs=len(inputs))
    elapsed = time.perf_counter() - t0
    preds = {}
    for r in out.sites:
        for d in r.documents:
            preds[d.source] = {
                "title": d.title,
                "published": d.published.isoformat() if d.published else None,
                "text": d.text,
            }
    return preds, elapsed


def run_trafilatura(data_dir: Path, name: str, pages: list[dict]) -> tuple[dict[str, dict], float]:
    preds = {}
    t0 = time.perf_counter()
    for p in pages:
        html = read_bytes(data_dir / name / p["page_path"])
        doc = trafilatura.bare_extraction(html, url=p.get("url"), with_metadata=True)
        if doc is not None:
            preds[p["page_path"]] = {"title": doc.title, "published": doc.date, "text": doc.text}
    return preds, time.perf_counter() - t0


def fmt(v: float | None) -> str:
    return "  -  " if v is None else f"{v:.3f}"


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
    args = ap.parse_args()
    sets = args.set or sorted(p.name for p in args.data_dir.iterdir() if (p / "ground_truth.jsonl").exists())
    samples = args.layout_sample or [ExtractConfig().layout_sample]
    print(
        f"{'set':22s} {'system':12s} {'pages':>5s} {'title':>6s} {'date':>6s} {'P':>6s} {'R':>6s} {'F1':>6s} "
        f"{'contain':>7s} {'leak':>6s} {'pages/s':>8s}"
    )
    for name in sets:
        records, pages = load_set(args.data_dir, name)
        labelled = {r["page_path"] for r in records}
        for system in ["trafilatura"] + [f"sitesift/{n}" for n in samples]:
            if system.startswith("sitesift"):
                cfg = PipelineConfig(extract=ExtractConfig(layout_sample=int(system.split("/")[1])))
                preds, secs = run_sitesift(args.data_dir, name, pages, cfg)
            else:
                preds, secs = run_trafilatura(
                    args.data_dir, name, [p for p in pages if p["page_path"] in labelled]
                )
            s = score(records, preds)
            n = len(pages) if system.startswith("sitesift") else len(labelled)
            print(
                f"{name:22s} {system:12s} {len(records):5d} {fmt(s['title']):>6s} {fmt(s['date']):>6s} "
                f"{fmt(s['P']):>6s} {fmt(s['R']):>6s} {fmt(s['F1']):>6s} {fmt(s['contain']):>7s} "
                f"{fmt(s['leak']):>6s} {n / secs:8.1f}"
            )


if __name__ == "__main__":
    main()
