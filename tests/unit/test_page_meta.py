"""A page's author, description, site name, tags, image and declared language from its own metadata
(every page), completed from trafilatura's metadata (pages it ran on), and carried through the run
state: each value with its source, None when the page does not say."""

from __future__ import annotations

from dataclasses import replace

import trafilatura

from pipeline.acquire.files import iter_raw_inputs
from pipeline.clean.main_content import run_trafilatura
from pipeline.clean.page_meta import (
    absolute_url,
    clean_author,
    document_meta,
    extractor_meta,
    language_code,
    needs_extractor_meta,
    read_page_meta,
    reconcile,
    split_tags,
)
from pipeline.clean.segment_html import parse_html
from pipeline.config import ExtractConfig, PipelineConfig
from pipeline.records import Page, PageMeta, ParsedPage
from pipeline.run.pages import parse_to_tables
from tests.support import write_files

URL = "https://blog.example.org/2024/05/bisect/"

# A WordPress/Yoast-style article: Open Graph, article:* tags, a JSON-LD @graph
WORDPRESS = """<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">
<title>Finding a bad commit with git bisect - Tooling Notes</title>
<meta name="description" content="How git bisect finds the commit that broke the build, in five steps.">
<meta property="og:description" content="A shorter teaser for social cards.">
<meta property="og:site_name" content="Tooling Notes">
<meta property="og:image" content="/wp-content/uploads/2024/05/bisect.png">
<meta property="article:author" content="https://www.facebook.com/jane.doe.writes">
<meta property="article:section" content="Git">
<meta property="article:tag" content="Debugging">
<meta property="article:tag" content="git">
<meta name="keywords" content="seo, words, nobody, reads">
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
  {"@type": "Organization", "name": "Tooling Notes Ltd", "logo": {"@type": "ImageObject", "url": "https://blog.example.org/logo.png"}},
  {"@type": "WebSite", "name": "Tooling Notes", "inLanguage": "en-US"},
  {"@type": "BlogPosting", "headline": "Finding a bad commit with git bisect",
   "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John &amp; Roe"}],
   "publisher": {"@type": "Organization", "name": "Tooling Notes Ltd"},
   "keywords": "bisect, regression", "image": {"@type": "ImageObject", "url": "https://cdn.example.org/b.png"}}
]}</script>
</head><body><article><h1>Finding a bad commit with git bisect</h1>
<p>By Jane Doe</p><p>git bisect walks the history between a good and a bad commit.</p></article></body></html>"""

# An older hand-made page: only plain <meta name> tags, a relative twitter:image
PLAIN_META = """<html><head><title>Allotment diary</title>
<meta name="author" content="By  Margaret   Oduya">
<meta name="description" content="  What grew,   what did not.  ">
<meta name="application-name" content="Allotment Diary">
<meta name="keywords" content="beans, Beans, slugs,, compost">
<meta name="twitter:image" content="img/beans.jpg">
<meta http-equiv="content-language" content="de-AT">
</head><body><p>Beans again this year.</p></body></html>"""

NOTHING = """<html><head><title>Untitled</title><meta charset="utf-8"></head>
<body><p>Just a paragraph of text with no metadata around it at all.</p></body></html>"""

NEWS_ORG_AUTHOR = """<html lang="en"><head>
<meta name="author" content="Brian Truitt">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "A film review",
 "author": {"@type": "Organization", "name": "USA TODAY"}, "image": ["https://img.example.com/a.jpg"],
 "articleSection": "Movies", "publisher": {"@type": "NewsMediaOrganization", "name": "USA TODAY"}}</script>
</head><body><p>Review text.</p></body></html>"""

BYLINE_ONLY = """<html><head><title>Repairing a bike chain | Pedal Shop</title></head><body>
<header><nav><a href="/">Home</a> <a href="/blog/">Blog</a></nav></header>
<article><h1>Repairing a bike chain</h1>
<div class="author-info"><span class="author">Priya Raman</span></div>
<p>A broken chain is the most common roadside repair, and it takes five minutes with a chain tool.
Push the pin out far enough to free the link, but not all the way, or it will not go back in.</p>
<p>Fit the new quick link, pull the chain tight across the teeth and check that it runs freely.
A chain that skips under load after the repair usually means one link is stiff: flex it sideways.</p>
<footer class="entry-footer"><span class="cat-links">Filed under
<a href="/category/repairs/" rel="category tag">Repairs</a></span>
<span class="tags-links"><a href="/tag/chains/" rel="tag">chains</a></span></footer>
</article></body></html>"""


def meta_of(page: str, url: str | None = URL) -> PageMeta:
    return read_page_meta(parse_html(page), url)


def test_a_wordpress_article_gives_every_field_with_its_source():
    m = meta_of(WORDPRESS)
    assert (m.author, m.author_source) == ("Jane Doe; John & Roe", "json-ld")
    assert (m.description, m.description_source) == (
        "How git bisect finds the commit that broke the build, in five steps.",
        "meta",
    )
    assert (m.sitename, m.sitename_source) == ("Tooling Notes", "meta")
    assert (m.tags, m.tags_source) == (("Git", "Debugging"), "meta")  # "git" is "Git" once
    assert (m.image, m.image_source) == (
        "https://blog.example.org/wp-content/uploads/2024/05/bisect.png",
        "meta",
    )
    assert (m.declared_language, m.declared_language_source) == ("en", "html-lang")


def test_plain_meta_names_are_cleaned_and_resolved():
    m = meta_of(PLAIN_META, "https://allotment.example.net/diary/2023.html")
    assert (m.author, m.author_source) == ("Margaret Oduya", "meta")
    assert m.description == "What grew, what did not."
    assert (m.sitename, m.sitename_source) == ("Allotment Diary", "meta")
    assert (m.tags, m.tags_source) == (("beans", "slugs", "compost"), "meta")
    assert m.image == "https://allotment.example.net/diary/img/beans.jpg"
    assert (m.declared_language, m.declared_language_source) == ("de", "meta")


def parsed(meta: PageMeta, extracted: PageMeta | None, in_sample: bool, extractor: str) -> ParsedPage:
    page = Page("d1", "blog", "blog/a.html", "html", "", URL, 100, "h")
    return ParsedPage(
        page, "blog", [], meta=meta, extractor_meta=extracted, in_sample=in_sample, extractor=extractor
    )


def test_a_page_without_metadata_says_nothing():
    assert meta_of(NOTHING) == PageMeta()
    row = document_meta(parsed(meta_of(NOTHING), None, True, "trafilatura"), "")
    assert (row.author, row.description, row.sitename, row.tags, row.image, row.language) == (None,) * 6
    assert (row.author_source, row.tags_source, row.language_source) == (None, None, None)


def test_a_person_in_meta_beats_an_organization_credited_in_json_ld():
    m = meta_of(NEWS_ORG_AUTHOR)
    assert (m.author, m.author_source) == ("Brian Truitt", "meta")
    assert (m.sitename, m.sitename_source) == ("USA TODAY", "json-ld")  # publisher.name
    assert (m.tags, m.tags_source) == (("Movies",), "json-ld")
    assert (m.image, m.image_source) == ("https://img.example.com/a.jpg", "json-ld")
    alone = meta_of(NEWS_ORG_AUTHOR.replace('<meta name="author" content="Brian Truitt">', ""))
    assert (alone.author, alone.author_source) == ("USA TODAY", "json-ld")  # what the page says, at last


def test_what_is_no_name_is_no_author():
    assert clean_author("https://www.facebook.com/jane") is None
    assert clean_author("jane@example.org") is None
    assert clean_author("admin") is None
    assert clean_author("Written by: Ana Lima") == "Ana Lima"
    assert clean_author("—") is None


def test_tags_urls_and_language_codes():
    assert split_tags(["a, B,b ,#c", "x" * 81], comma_separated=True) == ("a", "B", "c")
    assert absolute_url("//cdn.example.com/i.png", None) == "https://cdn.example.com/i.png"
    assert absolute_url("data:image/png;base64,AAAA", URL) is None
    assert absolute_url("i.png", None) is None  # relative with no page URL: nowhere to point
    assert [language_code(c) for c in ("pt-BR", "en_US", "DE", "x", "{{lang}}", "")] == [
        "pt",
        "en",
        "de",
        None,
        None,
        None,
    ]


def extracted(page: str, url: str) -> object:
    doc = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False)
    assert doc is not None
    return doc


def test_trafilatura_fills_what_the_page_metadata_lacks_and_no_more():
    url = "https://pedal.example.com/blog/chain-repair/"
    own = meta_of(BYLINE_ONLY, url)
    assert own == PageMeta()
    theirs = extractor_meta(extracted(BYLINE_ONLY, url), url)
    m = reconcile(own, theirs)
    assert (m.author, m.author_source) == ("Priya Raman", "trafilatura")  # its byline search
    assert (m.tags, m.tags_source) == (("Repairs", "chains"), "trafilatura")  # its category and tag links
    assert m.sitename is None  # trafilatura's "pedal.example.com" is only the URL's host
    sampled = document_meta(parsed(own, theirs, True, "trafilatura"), "")
    assert (sampled.author, sampled.tags) == ("Priya Raman", ["Repairs", "chains"])
    left_the_sample = document_meta(parsed(own, theirs, False, "layout"), "")  # as a fresh run has it
    assert (left_the_sample.author, left_the_sample.tags, left_the_sample.tags_source) == (None, None, None)


def test_a_user_name_gives_way_to_a_full_name_and_nothing_else_does():
    own = PageMeta(author="kffnirmitap", author_source="meta", sitename="KFF", sitename_source="meta")
    theirs = PageMeta(author="Nirmita Panchal", author_source="trafilatura", sitename="Kff Health News")
    assert reconcile(own, theirs).author == "Nirmita Panchal"
    assert reconcile(own, theirs).sitename == "KFF"
    kept = PageMeta(author="Supermove", author_source="json-ld")
    assert reconcile(kept, PageMeta(author="Supermove February 8")).author == "Supermove"


def test_the_page_own_metadata_wins_over_trafilatura():
    own = meta_of(WORDPRESS)
    assert reconcile(own, extractor_meta(extracted(WORDPRESS, URL), URL)) == own  # sampled or not, the same


def test_meta_is_carried_through_the_parse_state(tmp_path):
    raw = write_files(
        tmp_path / "raw",
        {
            "blog/bisect.html": WORDPRESS,
            "blog/chain.html": BYLINE_ONLY,
            "blog/notes.txt": "Plain words here.",
        },
    )
    tables = parse_to_tables(list(iter_raw_inputs(raw, PipelineConfig().load)), PipelineConfig())
    back = {p.page.source: p for p in tables.parsed_pages(tables.pages.column("doc_id").to_pylist())}
    assert back["blog/bisect.html"].meta == meta_of(WORDPRESS, None)
    assert back["blog/bisect.html"].meta.tags == ("Git", "Debugging")
    assert back["blog/notes.txt"].meta == PageMeta() and back["blog/notes.txt"].extractor_meta is None
    chain = back["blog/chain.html"].extractor_meta  # trafilatura ran on it with its metadata pass
    assert chain is not None and chain.author_source == "trafilatura"
    # the page's own metadata has every field: reconcile would take nothing, so the pass was not asked
    assert not needs_extractor_meta(back["blog/bisect.html"].meta)
    assert back["blog/bisect.html"].extractor_meta is None
    off = PipelineConfig(extract=ExtractConfig(extractor_metadata=False))
    without = parse_to_tables(list(iter_raw_inputs(raw, off.load)), off).parsed_pages(
        tables.pages.column("doc_id").to_pylist()
    )
    assert [p.extractor_meta for p in without] == [None, None, None]
    assert {p.page.source: p.meta for p in without} == {s: p.meta for s, p in back.items()}


def test_the_metadata_pass_is_asked_only_when_it_can_add_something_and_the_body_is_the_same():
    full = meta_of(WORDPRESS)
    assert not needs_extractor_meta(full)
    assert needs_extractor_meta(replace(full, tags=()))
    assert needs_extractor_meta(replace(full, author="jdoe"))  # a user name gives way to a full name
    assert needs_extractor_meta(meta_of(BYLINE_ONLY))
    for page in (WORDPRESS, BYLINE_ONLY):
        with_pass, without = run_trafilatura(page, URL, True), run_trafilatura(page, URL, False)
        assert with_pass is not None and without is not None and with_pass.tokens == without.tokens
