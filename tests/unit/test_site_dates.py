"""The site's date model (clean/site_dates.py): htmldate on the layout sample, its answers and the
pages' date hints teach where the site's dates sit, the other pages take the learned source, and a
page the model cannot decide gets htmldate after all, with the reason in date_decision."""

import datetime as dt

from pipeline.acquire.load import to_page
from pipeline.acquire.warc import host_of
from pipeline.clean.html_meta import htmldate_guess
from pipeline.clean.parse import parse_page
from pipeline.clean.segment_html import parse_html
from pipeline.clean.site import build_site
from pipeline.clean.site_dates import DateModel, date_hints
from pipeline.config import ExtractConfig, PipelineConfig
from pipeline.records import Block, RawInput

WORDS = "The words of a long article about something that happened. " * 30


def _html(i: int, footer_date: bool) -> tuple[str, dt.date]:
    """A post whose date sits in the footer (not the page's own date line: htmldate finds it), or
    only in an unmarked <time> inside the article."""
    d = dt.date(2021, 1, 1) + dt.timedelta(days=37 * i)
    where = (
        f"<footer><p>{d:%d %B %Y}</p></footer>"
        if footer_date
        else f"<p>Posted <time datetime='{d}'>then</time></p>"
    )
    html = (
        f"<html><head><title>Post {i}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>Post number {i}</h1><p>{WORDS} {i}</p></article>{where}</body></html>"
    )
    return html, d


def _page(i: int, in_sample: bool, footer_date: bool = True):
    html, d = _html(i, footer_date)
    raw = RawInput("site", f"a/p{i}.html", html.encode(), "html", url=f"https://example.org/p{i}")
    page = to_page(raw)
    return parse_page(page, ExtractConfig(), in_sample, host_of), html, d


def test_hints_are_date_lines_by_tag_path_their_earliest_and_copyright_years():
    blocks = [
        Block(0, "paragraph", "12 May 2020", tag_path="html/body/ul/li", is_dateline=True),
        Block(1, "paragraph", "3 March 2019", tag_path="html/body/ul/li", is_dateline=True),
        Block(2, "paragraph", "© 2018-2024 Someone", tag_path="html/body/footer/p"),
    ]
    assert date_hints(blocks) == [
        ("dateline:html/body/ul/li", dt.date(2020, 5, 12)),
        ("dateline-min:html/body/ul/li", dt.date(2019, 3, 3)),
        ("copyright:html/body/footer/p", dt.date(2024, 1, 1)),
    ]


def test_a_key_is_learned_only_when_it_always_gave_htmldates_answer():
    a, b = dt.date(2020, 1, 1), dt.date(2021, 1, 1)
    agreeing = [([("dateline:p", a), ("copyright:f", b)], a) for _ in range(3)]
    model = DateModel.learn([*agreeing, ([("copyright:f", b)], b)], min_evidence=3)
    assert model.keys == ("dateline:p",)  # the copyright year gave another date three times
    assert DateModel.learn(agreeing[:2], min_evidence=3).keys == ()  # too little evidence
    assert DateModel.learn([*agreeing, ([("dateline:p", a)], None)], 3).keys == ()  # htmldate found none


def test_an_unsampled_page_takes_the_learned_source_and_the_one_it_cannot_decide_gets_htmldate():
    sampled = [_page(i, True) for i in range(6)]
    covered = _page(6, False)
    uncovered = _page(7, False, footer_date=False)
    assert covered[0].htmldate == uncovered[0].htmldate == "deferred"
    assert not covered[0].date_candidates  # htmldate did not run on it
    docs = {
        d.source: d
        for d in build_site(
            "site", [p for p, _, _ in [*sampled, covered, uncovered]], PipelineConfig()
        ).documents
    }
    for p, html, d in [*sampled, covered, uncovered]:
        # the same date as htmldate on every page, whichever way it was decided
        assert docs[p.page.source].published == d == htmldate_guess(parse_html(html), p.page.url).date
    assert {docs[p.page.source].date_decision for p, _, _ in sampled} == {"htmldate:sampled"}
    doc = docs[covered[0].page.source]
    assert (doc.published_source, doc.date_decision) == ("site-model", "site-model")
    doc = docs[uncovered[0].page.source]
    assert (doc.published_source, doc.date_decision) == ("htmldate", "htmldate:not-covered")


def test_a_site_whose_sample_teaches_nothing_gets_htmldate_on_every_page_with_its_reason():
    sampled = [_page(i, True, footer_date=False) for i in range(6)]
    outside = _page(6, False, footer_date=False)
    docs = build_site("site", [p for p, _, _ in [*sampled, outside]], PipelineConfig()).documents
    doc = next(d for d in docs if d.source == outside[0].page.source)
    assert (doc.published, doc.published_source) == (outside[2], "htmldate")
    assert doc.date_decision == "htmldate:no-site-model"


def test_a_page_with_a_date_of_its_own_needs_no_decision():
    html = (
        "<html><head><title>P</title><meta property='article:published_time' content='2020-01-02'>"
        f"</head><body><article><h1>P</h1><p>{WORDS}</p></article></body></html>"
    )
    page = parse_page(
        to_page(RawInput("site", "a/p.html", html.encode(), "html", url="https://example.org/p")),
        ExtractConfig(),
        False,
        host_of,
    )
    assert page.htmldate is None and page.date_hints == []
    (doc,) = build_site("site", [page], PipelineConfig()).documents
    assert (doc.published, doc.published_source, doc.date_decision) == (dt.date(2020, 1, 2), "meta", None)
