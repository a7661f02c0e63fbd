import datetime as dt

import pytest

from pipeline.clean.dates import choose_dates, dateline_dates, parse_date, url_date
from pipeline.records import DateCandidate

D = dt.date


@pytest.mark.parametrize(
    "s,expected",
    [
        ("2025-12-18", D(2025, 12, 18)),
        ("2021-08-01T10:00:00+02:00", D(2021, 8, 1)),
        ("18 December 2025", D(2025, 12, 18)),
        ("Monday, 3rd May 2021", D(2021, 5, 3)),
        ("December 18, 2025", D(2025, 12, 18)),
        ("Dec 18 2025", D(2025, 12, 18)),
        ("18.12.2025", D(2025, 12, 18)),
        ("2025/12/18", D(2025, 12, 18)),
        ("17 de marzo de 2024", D(2024, 3, 17)),
        ("31 February 2024", None),
        ("not a date", None),
        ("1850-01-01", None),
    ],
)
def test_parse_date(s, expected):
    assert parse_date(s) == expected


@pytest.mark.parametrize(
    "line,role,date",
    [
        ("First published 18 December 2025", "published", D(2025, 12, 18)),
        ("First published  24 June 2020", "published", D(2020, 6, 24)),
        ("Published: 2024-01-02", "published", D(2024, 1, 2)),
        ("Updated 5 March 2024", "updated", D(2024, 3, 5)),
        ("Last updated: March 5, 2024", "updated", D(2024, 3, 5)),
        ("By Steve McConnell Date Read:February 17, 2005", "published", D(2005, 2, 17)),
        ("August 1, 2021 #TIL", "published", D(2021, 8, 1)),
    ],
)
def test_date_lines(line, role, date):
    assert dateline_dates(line) == [DateCandidate(date, role, "text")]


def test_dates_in_article_sentences_are_not_date_lines():
    assert (
        dateline_dates(
            "Schools and MATs can apply by submitting this application form by midday, "
            "Friday 30 October 2020. The DfE advises schools to read the guidance."
        )
        == []
    )
    assert dateline_dates("Updated guidance from the Department for Education has been issued.") == []


def test_two_first_published_lines_give_published_and_updated():
    cands = dateline_dates("First published 15 September 2020") + dateline_dates(
        "First published 24 June 2020"
    )
    pub, upd = choose_dates(cands)
    assert (pub.date, upd.date) == (D(2020, 6, 24), D(2020, 9, 15))


def test_structured_sources_beat_text_and_updated_is_what_the_page_states():
    # the page's metadata says it was modified before it was published: reported as stated
    cands = [
        DateCandidate(D(2020, 1, 1), "published", "text"),
        DateCandidate(D(2020, 1, 2), "published", "meta"),
        DateCandidate(D(2019, 1, 1), "updated", "meta"),
    ]
    pub, upd = choose_dates(cands)
    assert pub.source == "meta" and pub.date == D(2020, 1, 2)
    assert (upd.date, upd.source) == (D(2019, 1, 1), "meta")


def test_an_update_on_the_day_of_publication_is_reported():
    cands = dateline_dates("Published 5 March 2024") + dateline_dates("Last Update: March 5, 2024")
    pub, upd = choose_dates(cands)
    assert (pub.date, upd.date, upd.role) == (D(2024, 3, 5), D(2024, 3, 5), "updated")


def test_a_page_that_states_no_update_has_none():
    pub, upd = choose_dates(dateline_dates("Published 5 March 2024"))
    assert pub.date == D(2024, 3, 5) and upd is None


def test_url_dates():
    assert url_date("https://x.org/2021/03/05/title").date == D(2021, 3, 5)
    assert url_date("https://x.org/posts/title") is None


def _parsed(html: str, in_sample: bool):
    from pipeline.acquire.load import to_page
    from pipeline.acquire.warc import host_of
    from pipeline.clean.parse import parse_page
    from pipeline.config import ExtractConfig
    from pipeline.records import RawInput

    page = to_page(RawInput("site", "a/post.html", html.encode(), "html", url="https://example.org/post"))
    return parse_page(page, ExtractConfig(), in_sample, host_of)


_ARTICLE = "<p>" + "The words of a long article about something. " * 30 + "</p>"


def test_htmldate_is_the_last_resort_asked_of_sampled_pages_and_deferred_on_the_others():
    # an unmarked <time> is no structured date of ours, so only htmldate finds this page's date; outside
    # the layout sample the site's date model decides it at build (tests/unit/test_site_dates.py)
    page = (
        f"<html><head><title>Post</title></head><body><article><h1>Post</h1>"
        f"<p>Posted <time datetime='2021-03-05'>5 March</time></p>{_ARTICLE}</article></body></html>"
    )
    sampled, outside = _parsed(page, True), _parsed(page, False)
    assert sampled.extractor == "trafilatura" and outside.extractor == "segmented"
    assert sampled.date_candidates == [DateCandidate(D(2021, 3, 5), "published", "htmldate")]
    assert sampled.htmldate == "asked"
    assert outside.date_candidates == [] and outside.htmldate == "deferred"


def test_htmldate_is_not_asked_when_the_page_has_a_structured_date():
    page = (
        f"<html><head><title>Post</title>"
        f"<meta property='article:published_time' content='2020-01-02'></head><body><article><h1>Post</h1>"
        f"<p>Posted <time datetime='2021-03-05'>5 March</time></p>{_ARTICLE}</article></body></html>"
    )
    assert _parsed(page, True).date_candidates == [DateCandidate(D(2020, 1, 2), "published", "meta")]
