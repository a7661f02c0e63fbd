"""A site of one page gets at least what trafilatura gives alone: the article, the page's own title
and date, without the logo, the breadcrumb or the date line. Run through pipeline.run_incremental,
read back from Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipeline import run_incremental

BODY = " ".join(
    f"The harbour festival drew {n} thousand visitors to the quay this weekend, with boats, music and food."
    for n in range(3, 9)
)
EARLIER = [  # dated updates at the end of the story: its own dates, not the page's
    ("12 March 2024", "The organisers added a second stage for the brass bands on the pier."),
    ("14 March 2024", "The park and ride will run every ten minutes on both days of the festival."),
    ("20 March 2024", "Boat trips across the bay are sold out for the Saturday afternoon."),
]
PAGE = f"""<html><head><title>Harbour festival draws record crowds | Bay Courier</title></head><body>
<header><h1 class="logo"><a href="/">Bay Courier</a></h1>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<div class="crumbs"><a href="/">Home</a> › <a href="/news">News</a> › Harbour festival draws record crowds</div>
<h2 class="headline">Harbour festival draws record crowds</h2>
<p class="byline">Published 3 March 2024</p>
<p>{BODY}</p>
<h3>Updates</h3>
{"".join(f"<p>{d}</p><p>{t}</p>" for d, t in EARLIER)}
</article></main>
<footer><p>Bay Courier, 1 Quay Street. All rights reserved.</p></footer></body></html>"""


def _run(tmp_path: Path, files: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = tmp_path / "raw"
    for rel, html in files.items():
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text(html, encoding="utf-8")
    run_incremental(raw, tmp_path / "out", workers=0)
    read = lambda name: pd.read_parquet(tmp_path / "out" / name, dtype_backend="pyarrow")  # noqa: E731
    return read("documents"), read("blocks")


def test_a_one_page_site_gets_its_title_date_and_article(tmp_path):
    docs, blocks = _run(tmp_path, {"baycourier/festival.html": PAGE})
    row = docs.iloc[0]
    assert row.title == "Harbour festival draws record crowds"  # not the logo heading "Bay Courier"
    # the dated updates come after the body starts: not the page's dates, and no listing page
    assert row.published == dt.date(2024, 3, 3) and row.published_source == "text"
    assert row.text.startswith("The harbour festival drew 3 thousand")  # no breadcrumb, byline or title
    for date, update in EARLIER:
        assert date in row.text and update in row.text
    crumb = blocks[blocks.text.str.startswith("Home › News")]
    assert crumb.removed_by.tolist() == ["title"]
