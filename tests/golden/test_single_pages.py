"""A site of one page gets at least what trafilatura gives alone: the article with its comments, the
page's own title and date, without the logo, the breadcrumb or the date line. Run through
pipeline.run_incremental, read back from Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipeline import run_incremental

BODY = " ".join(
    f"The harbour festival drew {n} thousand visitors to the quay this weekend, with boats, music and food."
    for n in range(3, 9)
)
COMMENTS = [
    ("12 March 2024", "Great day out, the brass band was the best part for our children."),
    ("14 March 2024", "Parking was hard to find, the park and ride should run more often."),
    ("20 March 2024", "We came by boat from the other side of the bay and loved every minute."),
]
PAGE = f"""<html><head><title>Harbour festival draws record crowds | Bay Courier</title></head><body>
<header><h1 class="logo"><a href="/">Bay Courier</a></h1>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<div class="crumbs"><a href="/">Home</a> › <a href="/news">News</a> › Harbour festival draws record crowds</div>
<h2 class="headline">Harbour festival draws record crowds</h2>
<p class="byline">Published 3 March 2024</p>
<p>{BODY}</p><p>{BODY}</p>
</article>
<section class="comments"><h3>Comments</h3>
{"".join(f'<div class="comment"><p class="date">{d}</p><p>{t}</p></div>' for d, t in COMMENTS)}
</section></main>
<footer><p>Bay Courier, 1 Quay Street. All rights reserved.</p></footer></body></html>"""


def _run(tmp_path: Path, files: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = tmp_path / "raw"
    for rel, html in files.items():
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text(html, encoding="utf-8")
    run_incremental(raw, tmp_path / "out", workers=0)
    read = lambda name: pd.read_parquet(tmp_path / "out" / name, dtype_backend="pyarrow")  # noqa: E731
    return read("documents"), read("blocks")


def test_a_one_page_site_gets_its_title_date_article_and_comments(tmp_path):
    docs, blocks = _run(tmp_path, {"baycourier/festival.html": PAGE})
    row = docs.iloc[0]
    assert row.title == "Harbour festival draws record crowds"  # not the logo heading "Bay Courier"
    # the comments' dates come after the article body: not the page's, and no listing
    assert row.published == dt.date(2024, 3, 3) and row.published_source == "text"
    assert row.text.startswith("The harbour festival drew 3 thousand")  # no breadcrumb, byline or title
    for date, comment in COMMENTS:
        assert date in row.text and comment in row.text
    crumb = blocks[blocks.text.str.startswith("Home › News")]
    assert crumb.removed_by.tolist() == ["title"]
