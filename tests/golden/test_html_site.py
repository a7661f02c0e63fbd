"""The HTML site (tests/support.py): shared header, nav and footer, a promo line inside <article>, a
site-name suffix in <title>, dates in meta tags; and two one-page sites the extractor finds hard."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.support import PROMO, STORIES, run_and_read, write_files


def test_html_site(html_site_raw, tmp_path):
    _, ds = run_and_read(html_site_raw, tmp_path / "out")
    docs = ds["documents"].sort_values("source").reset_index(drop=True)
    assert len(docs) == 5
    for i, row in docs.iterrows():
        title, published, updated = STORIES[i]
        assert row.title == title  # from <h1>, or from <title> without " | Example Gazette" (story 3)
        assert row.published == dt.date.fromisoformat(published)
        assert row.published_source == "meta"
        if updated:
            assert row.updated == dt.date.fromisoformat(updated) and row.updated_source == "meta"
        for gone in (
            "Contact us",
            "All rights reserved",
            "Registered office",
            PROMO,
            "Most read",
            "Example Gazette",
        ):
            assert gone not in row.text, (i, gone)
        assert f"Story {i}:" in row.text and f"item {i} said" in row.text
    blocks = ds["blocks"]
    promo = blocks[blocks.text == PROMO]
    assert len(promo) == 5 and promo.is_boilerplate.all() and promo.in_main.all()


def test_full_page_is_used_when_the_extractor_finds_nothing(tmp_path):
    from pipeline.clean.main_content import run_trafilatura

    page = "<html><body><footer><p>Opening hours: weekdays nine to five, closed on bank holidays.</p></footer></body></html>"
    assert run_trafilatura(page, None) is None  # the premise: trafilatura returns nothing here
    raw = write_files(tmp_path / "raw", {"tiny/hours.html": page})
    _, ds = run_and_read(raw, tmp_path / "out")
    assert ds["documents"].text.tolist() == ["Opening hours: weekdays nine to five, closed on bank holidays."]
    assert ds["blocks"].in_main.all()


def test_listing_pages_do_not_take_their_items_dates(tmp_path):
    items = "".join(
        f"<li><span>August {i}, 2021</span> <a href='/p{i}'>Post number {i} about gardens</a></li>"
        for i in range(1, 6)
    )
    page = f"<html><head><title>All posts</title></head><body><main><h1>All posts</h1><ul>{items}</ul></main></body></html>"
    raw = write_files(tmp_path / "raw", {"blog/index.html": page})
    _, ds = run_and_read(raw, tmp_path / "out")
    row = ds["documents"].iloc[0]
    assert row.title == "All posts" and pd.isna(row.published) and pd.isna(row.updated)
