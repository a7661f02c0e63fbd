"""Page metadata benchmark (not a test): what the documents columns author, description, sitename,
tags, image and language cost per page, and how well `author` matches the labels, against trafilatura
alone.

    python bench/page_meta.py ../shared/eval/wcxb_dev            # every page
    python bench/page_meta.py ../shared/eval/wcxb_dev --pages 300

Per page, as a parser process does it on a page of the layout sample: the lxml tree
(clean/segment_html.parse_html), the page's own metadata on it (clean/page_meta.read_page_meta),
trafilatura's `bare_extraction(html, url=url, with_metadata=True)` (timed against the same call
without metadata), the two reconciled (extractor_meta, reconcile), and the language chosen on the labelled
body text (clean/language.choose_language; the model is read before timing). A page outside the
sample gets the page's own metadata only: the "page meta only" row.

Author scoring: names folded (case, punctuation, a leading "By"); "exact" when the folded strings are
equal, "a name in common" when one name of a list ("A, B and C", "A; B") is in both.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.clean.language import choose_language, detect
from pipeline.clean.page_meta import extractor_meta, read_page_meta, reconcile
from pipeline.clean.segment_html import parse_html

FIELDS = ["author", "description", "sitename", "tags", "image"]


def fold(s: str | None) -> str:
    s = unicodedata.normalize("NFKC", s or "").casefold()
    return " ".join(re.findall(r"\w+", re.sub(r"^(?:by|written by)\s+", "", s)))


def names(s: str | None) -> set[str]:
    return {fold(x) for x in re.split(r";|,| and | & ", s or "") if fold(x)}


def author_row(label: str, recs: list[dict], got: list[str | None]) -> str:
    pairs = [(r["author"], a) for r, a in zip(recs, got) if r.get("author")]
    unlabelled = [a for r, a in zip(recs, got) if not r.get("author")]
    n = len(pairs) or 1
    found = sum(1 for _, a in pairs if a) / n
    exact = sum(1 for t, a in pairs if a and fold(a) == fold(t)) / n
    common = sum(1 for t, a in pairs if a and names(a) & names(t)) / n
    given = sum(1 for a in unlabelled if a) / (len(unlabelled) or 1)
    return f"| {label} | {len(pairs)} | {found:.3f} | {exact:.3f} | {common:.3f} | {given:.3f} |"


def main() -> None:
    import trafilatura

    ap = argparse.ArgumentParser()
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--pages", type=int, default=0, help="only the first N labelled pages")
    args = ap.parse_args()
    recs = [json.loads(line) for line in (args.set_dir / "ground_truth.jsonl").open(encoding="utf-8")]
    recs = recs[: args.pages] if args.pages else recs
    pages = []
    for r in recs:
        raw = (args.set_dir / r["page_path"]).read_bytes()
        pages.append(
            (gzip.decompress(raw) if r["page_path"].endswith(".gz") else raw).decode("utf-8", "replace")
        )
    n = len(recs)
    timings: Counter[str] = Counter()

    def timed(name: str, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] += time.perf_counter() - t
        return out

    roots = [timed("lxml tree", lambda h=h: parse_html(h)) for h in pages]
    own = [
        timed("page meta", lambda root=root, r=r: read_page_meta(root, r.get("url")))
        for root, r in zip(roots, recs)
    ]
    kw = {"include_comments": False, "include_tables": True, "deduplicate": False}
    for h, r in zip(pages, recs):
        timed(
            "trafilatura, no metadata",
            lambda h=h, r=r: trafilatura.bare_extraction(h, url=r.get("url"), **kw),
        )
    docs = [
        timed(
            "trafilatura, with_metadata",
            lambda h=h, r=r: trafilatura.bare_extraction(h, url=r.get("url"), with_metadata=True, **kw),
        )
        for h, r in zip(pages, recs)
    ]
    merged = [
        reconcile(m, extractor_meta(d, r.get("url"))) if d is not None else m
        for m, d, r in zip(own, docs, recs)
    ]
    detect("warm up: the model is read once per process, about a second")
    langs = [
        timed("language", lambda m=m, r=r: choose_language(m, r.get("body_text") or ""))
        for m, r in zip(merged, recs)
    ]

    print(f"{n} pages of {args.set_dir.name}\n\n| step | ms/page |\n|---|---|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds / n * 1000:.2f} |")
    print(
        "\n| author | labelled | found | exact | a name in common | given on unlabelled |\n|---|---|---|---|---|---|"
    )
    print(author_row("trafilatura alone", recs, [d.author if d is not None else None for d in docs]))
    print(author_row("sitesift, page meta only (pages outside the sample)", recs, [m.author for m in own]))
    print(author_row("sitesift, page meta + trafilatura (sampled pages)", recs, [m.author for m in merged]))
    print(
        "\n| field | pages with a value: trafilatura alone | sitesift | sitesift's sources |\n|---|---|---|---|"
    )
    for f in FIELDS:
        theirs = sum(
            1 for d in docs if d is not None and (getattr(d, f) if f != "tags" else (d.tags or d.categories))
        )
        ours = Counter(getattr(m, f"{f}_source") for m in merged)
        print(f"| {f} | {theirs} | {n - ours.pop(None, 0)} | {dict(ours)} |")
    sources = Counter(s for _, s in langs)
    print(
        f"| language | {sum(1 for d in docs if d is not None and d.language)} | {n - sources.pop(None, 0)} | {dict(sources)} |"
    )
    overrides = [
        (r["site"], m.declared_language, lang)
        for r, m, (lang, _) in zip(recs, merged, langs)
        if m.declared_language and lang != m.declared_language
    ]
    print(f"\ndetected language overrode the declared one on {len(overrides)} pages: {overrides[:10]}")
    print(f"languages: {Counter(lang for lang, _ in langs).most_common(8)}")


if __name__ == "__main__":
    main()
