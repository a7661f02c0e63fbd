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


CONSENT = """<div class="consent"><div class="consent__box"><h4>Served with love!</h4>
<div class="consent__text">With our cookies we would like to offer you the best shopping experience possible with
everything that goes with it. This includes, for example, suitable offers, personalised ads and remembering your
preferences. If this is okay with you, simply agree to the use of cookies for preferences, statistics and marketing
by clicking on "Alright!". You can withdraw your consent at any time via the cookie settings.</div>
<div class="consent__links"><a href="/imprint">Imprint</a> · <a href="/privacy">Privacy Policy</a></div></div></div>"""


def _shop_listing(category: str, products: list[tuple[str, str, int]]) -> str:
    cards = "".join(
        f'<div class="product"><a href="/p/{i}" class="product__link"><div class="product__title">{name}</div>'
        f'<ul class="product__features"><li>{feature}</li></ul><div class="product__price">£{price}</div></a></div>'
        for i, (name, feature, price) in enumerate(products)
    )
    return f"""<!doctype html><html><head><title>{category} – Music Shop</title></head><body>{CONSENT}
<header><nav><ul><li><a href="/guitars">Guitars</a></li><li><a href="/drums">Drums</a></li>
<li><a href="/studio">Studio</a></li></ul></nav></header>
<main><div class="listing"><h1>{category}</h1><div class="products">{cards}</div></div></main>
<footer><p>Music Shop Ltd, 1 High Street. All prices include VAT.</p></footer></body></html>"""


SHOP = {
    "shop/headphones.html": _shop_listing(
        "Studio Headphones",
        [
            ("beyerdynamic DT-770 Pro 250 Ohm", "Closed back, circumaural, dynamic", 119),
            ("Sennheiser HD-25", "Closed back, supra-aural, linear reproduction", 139),
            ("AKG K-712 Pro", "Open back, reference sound for mixing", 249),
        ],
    ),
    "shop/microphones.html": _shop_listing(
        "Microphones",
        [
            ("Rode NT1 5th Generation", "Large diaphragm condenser with USB", 229),
            ("Shure SM58", "Dynamic vocal microphone, cardioid", 95),
        ],
    ),
    "shop/guitars.html": _shop_listing(
        "Electric Guitars",
        [
            ("Fender Player II Strat", "Alder body, rosewood fretboard", 699),
            ("Harley Benton TE-20HH", "Basswood body, two humbuckers", 99),
        ],
    ),
}


def test_a_page_whose_extracted_content_is_all_template_keeps_what_is_its_own(tmp_path):
    from pipeline.clean.main_content import run_trafilatura

    for page in SHOP.values():  # the premise: trafilatura keeps the consent banner and nothing else
        kept = " ".join(run_trafilatura(page, None).tokens)
        assert "cookies" in kept and "£" not in kept and "closed" not in kept and "fender" not in kept
    raw = write_files(tmp_path / "raw", SHOP)
    _, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].sort_values("source").reset_index(drop=True)
    assert docs.title.tolist() == ["Electric Guitars", "Studio Headphones", "Microphones"]
    text = dict(zip(docs.title, docs.text))
    assert "Sennheiser HD-25" in text["Studio Headphones"] and "£139" in text["Studio Headphones"]
    assert "Fender Player II Strat" in text["Electric Guitars"]
    for page_text in text.values():  # the site's template stays out: banner, menu, footer
        assert "cookies" not in page_text and "Drums" not in page_text and "High Street" not in page_text
    blocks = ds["blocks"]
    banner = blocks[blocks.text.str.startswith("With our cookies")]
    assert len(banner) == 3 and banner.is_boilerplate.all() and banner.removed_by.eq("boilerplate").all()
    names = blocks[blocks.text == "Shure SM58"]
    assert names.in_main.all() and names.removed_by.isna().all()
