from pipeline.clean.titles import learn_affixes, strip_affixes

TITLES = [
    "Git Bisect - Isaac Lopez",
    "Svg Masks - Isaac Lopez",
    "Marshall Goldsmith | Talk @ google - Isaac Lopez",
    "Books - Isaac Lopez",
    "Isaac Lopez",
]


def test_suffix_learned_from_the_site_and_stripped():
    aff = learn_affixes(TITLES, min_pages=3)
    assert aff.suffixes == {"isaac lopez"}
    assert strip_affixes("Git Bisect - Isaac Lopez", aff) == "Git Bisect"
    assert (
        strip_affixes("Marshall Goldsmith | Talk @ google - Isaac Lopez", aff)
        == "Marshall Goldsmith | Talk @ google"
    )
    assert strip_affixes("Isaac Lopez", aff) == "Isaac Lopez"


def test_prefix_learned():
    aff = learn_affixes([f"Example News | Story {i}" for i in range(5)], min_pages=3)
    assert strip_affixes("Example News | Story 9", aff) == "Story 9"


def test_nothing_learned_from_too_few_pages():
    aff = learn_affixes(["A - Site", "B - Site"], min_pages=3)
    assert strip_affixes("A - Site", aff) == "A - Site"


def _title(html: str, url: str = "https://www.example-gazette.com/news/budget", affixes=None) -> str | None:
    from pipeline.clean.html_meta import extract_html_meta
    from pipeline.clean.segment_html import parse_html, segment_html
    from pipeline.clean.titles import TitleAffixes, choose_title
    from pipeline.records import Page, ParsedPage

    root = parse_html(html)
    meta = extract_html_meta(root)
    page = ParsedPage(
        page=Page("d", "s", "s/p.html", "html", html, url, len(html), "h"),
        site="www.example-gazette.com",
        blocks=segment_html(root),
        html_title=meta.title,
        og_title=meta.og_title,
    )
    return choose_title(page, affixes or TitleAffixes(frozenset(), frozenset()), 300)[0]


def test_a_logo_heading_is_not_the_title():
    html = """<html><head><title>Budget agreed after long debate | Example Gazette</title></head><body>
    <header><h1><a href="/">Example Gazette</a></h1></header>
    <main><h2>Budget agreed after long debate</h2><p>The council agreed a budget.</p></main></body></html>"""
    assert _title(html) == "Budget agreed after long debate"


def test_a_section_heading_is_not_the_title_when_another_heading_matches_the_metadata():
    html = """<html><head><title>Entertainment | Film festival opens in the rain</title>
    <meta property="og:title" content="Film festival opens in the rain"></head><body>
    <h1>Entertainment</h1><article><h1>Film festival opens in the rain</h1><p>Crowds came anyway.</p>
    </article></body></html>"""
    assert _title(html) == "Film festival opens in the rain"


def test_without_a_heading_the_site_name_part_of_the_title_goes():
    html = """<html><head><title>Opening hours and prices - Example-Gazette.com</title></head><body>
    <p>We are open every day from nine.</p></body></html>"""
    assert _title(html) == "Opening hours and prices"


def test_the_page_heading_wins_over_a_different_metadata_title_and_loses_its_permalink():
    html = """<html><head><title>Logging HOWTO — Python 3.14 documentation</title></head><body>
    <div class="body"><h1>Logging HOWTO<a class="headerlink" href="#logging">¶</a></h1>
    <p>This page contains tutorial information.</p></div></body></html>"""
    assert _title(html, url="https://docs.python.org/3/howto/logging.html") == "Logging HOWTO"


def test_a_breadcrumb_or_copy_repeats_the_title():
    from pipeline.clean.titles import repeats_title

    assert repeats_title("Home › News › Budget agreed", "Budget agreed")
    assert repeats_title("You are here: Home / News / Budget agreed", "Budget agreed")
    assert repeats_title("budget  agreed", "Budget agreed")
    assert not repeats_title("Why the budget agreed", "Budget agreed")
    assert not repeats_title("The mayor said the budget was agreed", "Budget agreed")


def test_a_page_whose_only_main_content_is_its_heading_keeps_it_as_its_text():
    from pipeline.clean.segment_html import parse_html, segment_html
    from pipeline.clean.site import page_document
    from pipeline.clean.titles import TitleAffixes
    from pipeline.config import PipelineConfig
    from pipeline.records import Page, ParsedPage

    title = "Regulator to open a consultation on satellite market access"
    html = f"""<html><head><title>{title} : r/technology</title></head><body>
    <nav><a href="/">Go to Home</a> <a href="/login">Log In</a></nav>
    <main><h1>{title}</h1><p><a href="https://news.example/x">news.example</a></p></main>
    <footer><p>Rules Privacy Policy User Agreement</p></footer></body></html>"""
    blocks = segment_html(parse_html(html))
    for b in blocks:
        b.in_main = b.text == title  # all that the extractor kept: a link post's heading
    page = ParsedPage(
        page=Page("d", "s", "s/p.html", "html", html, None, len(html), "h"),
        site="forum",
        blocks=blocks,
        html_title=f"{title} : r/technology",
    )
    doc = page_document("forum", page, TitleAffixes(frozenset(), frozenset()), PipelineConfig())
    assert doc.title == title and doc.text == title
