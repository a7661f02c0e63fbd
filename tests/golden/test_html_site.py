"""A small multi-page HTML site built here: shared header, nav and footer, a promo line inside
<article>, a site-name suffix in <title>, dates in meta tags."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.conftest import run_and_read, write_files

PROMO = "Subscribe to the Example Gazette newsletter for the best local stories every morning."
STORIES = [
    ("River festival returns after three years", "2024-05-02", None),
    ("Council approves new cycle lanes on High Street", "2024-05-09", "2024-06-01"),
    ("Library extends opening hours for summer", "2024-05-16", None),
    ("Local bakery wins national sourdough award", "2024-05-23", None),
    ("School choir to perform at the cathedral", "2024-05-30", None),
]


DETAILS = [
    (
        "boats, music and food stalls lined the quay",
        "the harbour master",
        "volunteers counted twelve thousand visitors",
    ),
    (
        "councillors voted seven to two in favour",
        "the transport committee",
        "work on the junction begins in August",
    ),
    (
        "the reading room will stay open until nine",
        "the head librarian",
        "a poetry club will meet on Thursdays",
    ),
    (
        "judges praised the crust and the open crumb",
        "the baker's daughter",
        "queues formed before dawn on Monday",
    ),
    (
        "forty pupils rehearsed for six weeks",
        "the music teacher",
        "tickets are free but must be booked online",
    ),
]


def story_page(i: int, title: str, published: str, updated: str | None, with_h1: bool = True) -> str:
    what, who, extra = DETAILS[i]
    paras = [
        f"Story {i}: {title}. On Saturday {what}, and reporters asked residents what they made of it.",
        f"Speaking after the announcement, {who} said the response had been overwhelming and thanked everyone.",
        f"Looking ahead, {extra}; further details for item {i} said to follow.",
    ]
    updated_meta = f'<meta property="article:modified_time" content="{updated}T08:00:00Z">' if updated else ""
    h1 = f"<h1>{title}</h1>" if with_h1 else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title} | Example Gazette</title>
<meta property="og:title" content="{title} | Example Gazette">
<meta property="article:published_time" content="{published}T10:00:00+01:00">{updated_meta}
</head><body>
<header><div class="logo">Example Gazette</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><article>{h1}
<p>{paras[0]}</p><p>{paras[1]}</p>
<p class="promo">{PROMO}</p>
<p>{paras[2]}</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Town hall clock repaired</a></li><li><a href="/b">Fun run raises thousands</a></li></ul></aside>
</main>
<footer><p>© 2024 Example Gazette. All rights reserved.</p><p>Registered office: 1 Market Square, Exampletown</p></footer>
</body></html>"""


def gazette() -> dict[str, str | bytes]:
    return {
        f"gazette/story-{i}.html": story_page(i, t, p, u, with_h1=(i != 3))
        for i, (t, p, u) in enumerate(STORIES)
    }


def test_html_site(tmp_path):
    raw = write_files(tmp_path / "raw", gazette())
    _, ds = run_and_read(raw, tmp_path / "out")
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
