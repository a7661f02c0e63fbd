from pipeline.clean.segment_html import parse_html, segment_html
from pipeline.clean.segment_text import segment_text


def test_text_segmentation_bullets_and_noise():
    text = (
        "Home Menu\n\nTitle here\n\n \n;\n  • first point\n  • second point\n\n  1. numbered\n\nA sentence."
    )
    blocks = segment_text(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Home Menu"),
        ("heading", "Title here"),
        ("list_item", "first point"),
        ("list_item", "second point"),
        ("list_item", "numbered"),
        ("paragraph", "A sentence."),
    ]
    assert [b.position for b in blocks] == list(range(6))


def test_hard_wrapped_paragraph_is_joined():
    text = "This is a long paragraph that was\nwrapped at a fixed width by an email\nclient long ago."
    assert [b.text for b in segment_text(text)] == [text.replace("\n", " ")]


def test_html_blocks_kinds_and_paths():
    html = """<html><head><title>T</title><script>var x=1;</script></head><body>
    <nav><ul><li><a href=/>Home</a></li></ul></nav>
    <article><h1>Head <em>line</em></h1><p>Para <b>one</b><br>more</p><div>loose text<p>inner</p>tail</div>
    <pre>code\n  indented</pre><table><tr><th>a</th><td>b</td></tr></table></article><!-- c --></body></html>"""
    blocks = segment_html(parse_html(html))
    got = [(b.kind, b.tag, b.text) for b in blocks]
    assert got == [
        ("list_item", "li", "Home"),
        ("heading", "h1", "Head line"),
        ("paragraph", "p", "Para one more"),
        ("paragraph", "div", "loose text"),
        ("paragraph", "p", "inner"),
        ("paragraph", "div", "tail"),
        ("code", "pre", "code\n  indented"),
        ("table_row", "tr", "a | b"),
    ]
    assert blocks[1].tag_path == "html/body/article/h1"


def test_deeply_nested_html_is_walked_without_recursion():
    html = "<div>" * 1000 + "<p>deep text</p>" + "</div>" * 1000
    assert [b.text for b in segment_html(parse_html(html))] == ["deep text"]
    # beyond libxml2's own depth limit the text is lost, but nothing crashes
    assert segment_html(parse_html("<div>" * 20000 + "x" + "</div>" * 20000)) is not None


def test_noscript_holding_a_rendered_thread_is_content_and_a_notice_is_not():
    # forum software renders the whole thread inside <noscript> for clients without JavaScript
    html = """<html><body><div id="app"></div>
    <noscript>Please enable JavaScript to use this forum.</noscript>
    <noscript><div class="topic"><h1>Printer keeps jamming</h1>
    <div class="post"><p>My printer jams on every second page.</p></div>
    <div class="post"><p>Clean the rollers with a damp cloth.</p></div></div></noscript></body></html>"""
    texts = [b.text for b in segment_html(parse_html(html))]
    assert texts == [
        "Printer keeps jamming",
        "My printer jams on every second page.",
        "Clean the rollers with a damp cloth.",
    ]


def test_an_unclosed_menu_button_does_not_swallow_the_page():
    # the <button> is never closed: the parser puts the rest of the page inside it
    html = """<html><body><header><button class="menu-toggle">Menu
    <nav><ul><li><a href="/">Home</a></li></ul></nav>
    <main><h1>Budget agreed</h1><p>The council agreed a new budget for the libraries.</p>
    <p>Press <button>Copy link</button> to share it.</p></main></body></html>"""
    texts = [b.text for b in segment_html(parse_html(html))]
    assert "Budget agreed" in texts
    assert "The council agreed a new budget for the libraries." in texts
    assert "Press to share it." in texts  # a button that is only a label stays out of the text


def test_adjacent_inline_elements_are_separate_words_and_an_elements_tail_is_not():
    html = """<html><body><div class="meta"><span>2026</span><span>1h 54m</span><span>R</span></div>
    <p>un<em>believ</em>able H<sub>2</sub>O, the 10<sup>th</sup> <a href="/a">first</a><a href="/b">second</a>.</p>
    <pre><span class="kw">def</span><span>(x):</span></pre></body></html>"""
    assert [b.text for b in segment_html(parse_html(html))] == [
        "2026 1h 54m R",
        "unbelievable H2O, the 10th first second.",
        "def(x):",  # code keeps its characters as they are
    ]


def test_punctuation_in_an_element_of_its_own_stays_with_its_word():
    # a paragraph as WordPress stores text pasted from a word processor: every run in its own span,
    # links between them, the punctuation after a link in the next span
    html = """<html><body><article><p><span style="font-weight: 400;">Personal safety comes first. Also,
    it's a </span><a href="https://example.org/osha"><span style="font-weight: 400;">requirement</span></a><span
    style="font-weight: 400;">. Insulated gloves protect against shock (</span><a href="/ppe">see our
    <b>PPE guide</b></a><span>), and the right</span><b> event trends</b><span style="font-weight: 400;">,
    as the </span><a href="/report">report</a><span>’s authors say, matter</span><span>!</span></p>
    <ul class="price"><li><span>From </span><span>$</span><span>599</span><span>2026</span><span>1h</span></li></ul>
    </article></body></html>"""
    assert [b.text for b in segment_html(parse_html(html))] == [
        "Personal safety comes first. Also, it's a requirement. Insulated gloves protect against shock "
        "(see our PPE guide), and the right event trends, as the report’s authors say, matter!",
        "From $599 2026 1h",  # separate items are still separate words
    ]


def test_plain_lxml_tree_reads_the_same_blocks_and_metadata_as_lxml_html():
    """Unsampled pages are read from plain lxml elements (no per-element class lookup), sampled
    ones from lxml.html's tree that htmldate takes: a page must come out the same either way."""
    from pipeline.clean.html_meta import extract_html_meta
    from pipeline.clean.page_meta import read_page_meta
    from pipeline.clean.segment_html import parse_tree

    page = """<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html><html lang="en-GB"><head>
    <title>Rates rise again | The Ledger</title>
    <meta property="og:title" content="Rates rise again"><meta name="author" content="A. Writer">
    <meta name="description" content="Why rates rose."><link rel="canonical" href="https://ledger.test/rates">
    <script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2026-03-04"}</script>
    </head><body><nav class="menu-2 top">Home <a href="/">News</a></nav>
    <article class="post post-123 12"><h1>Rates rise <em>again</em></h1>
    <time class="published" datetime="2026-03-04T09:00">4 March</time>
    <p>The bank raised rates<span>.</span> Markets <b>fell</b>.</p><!-- a comment -->
    <table><tr><td>Rate</td><td>5%</td></tr></table><ul><li>One</li><li>Two</li></ul></article>
    <button>Menu<div><p>Kept under an unclosed button</p></div></button></body></html>"""
    plain, full = parse_tree(page), parse_html(page)
    assert type(plain).__name__ == "_Element" and type(full).__name__ == "HtmlElement"
    assert segment_html(plain) == segment_html(full)
    assert extract_html_meta(plain) == extract_html_meta(full)
    url = "https://ledger.test/rates"
    assert read_page_meta(plain, url) == read_page_meta(full, url)
    blocks = segment_html(plain)
    assert [b.text for b in blocks][:3] == ["Home News", "Rates rise again", "4 March"]
    assert blocks[1].layout_path.endswith("article.post.post-/h1")  # digits and digit-only classes dropped
    meta = extract_html_meta(plain)
    assert meta.title == "Rates rise again | The Ledger" and meta.url == url


def test_line_number_columns_of_code_highlighters_are_not_text():
    """Hexo and Pygments set the numbers in a table cell beside the code, Hugo's chroma either in a
    cell or inline before each line: none of them is a word of the page."""
    html = """<html><body><article><p>Build it like this.</p>
    <figure class="highlight scala"><table><tr><td class="gutter"><pre><span class="line">1</span><br>\
<span class="line">2</span><br></pre></td><td class="code"><pre><span class="line">mvn package</span><br>\
<span class="line">mvn install</span><br></pre></td></tr></table></figure>
    <table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre>7
8</pre></div></td><td class="code"><div class="highlight"><pre>x = 1
y = 2</pre></div></td></tr></table>
    <div class="highlight"><pre class="chroma"><code><span class="line"><span class="ln">1</span><span class="cl">package main</span></span>
<span class="line"><span class="ln">2</span><span class="cl">import "fmt"</span></span></code></pre></div>
    </article></body></html>"""
    texts = [b.text for b in segment_html(parse_html(html))]
    assert texts == [
        "Build it like this.",
        "mvn package\nmvn install",
        "x = 1\ny = 2",
        'package main\nimport "fmt"',
    ]
    assert [b.position for b in segment_html(parse_html(html))] == [0, 1, 2, 3]


def test_numbers_that_are_content_stay():
    """A table of numbers, a program's output printed in a <pre>, a number in a code line."""
    html = """<html><body><article><table><tr><td>1</td><td>2</td></tr></table>
    <pre>1
2
3</pre><p>Then:</p><pre>echo <span class="n">42</span></pre>
    <table><tr><td><pre>1
2</pre></td><td><p>two steps</p></td></tr></table></article></body></html>"""
    texts = [b.text for b in segment_html(parse_html(html))]
    assert texts == ["1 | 2", "1\n2\n3", "Then:", "echo 42", "1\n2", "two steps"]


def test_the_options_of_a_select_are_blocks_of_their_own():
    """trafilatura keeps a <select>'s choices (a schedule's team picker); whether they are content
    is main content's decision, as for any block."""
    html = """<html><body><main><h1>Schedule</h1><select><option value="a">Arizona Cardinals</option>
    <option value="b">Atlanta Falcons</option></select><p>Week 1</p></main></body></html>"""
    blocks = segment_html(parse_html(html))
    assert [(b.text, b.tag) for b in blocks] == [
        ("Schedule", "h1"),
        ("Arizona Cardinals", "option"),
        ("Atlanta Falcons", "option"),
        ("Week 1", "p"),
    ]
