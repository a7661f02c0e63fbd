"""HTML -> ordered blocks with tag paths, by one iterative lxml walk (no recursion limits). Pure."""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

from lxml import etree, html

from pipeline.clean.segment_text import HAS_WORD
from pipeline.records import Block

BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
    "center",
    "listing",
    "plaintext",
    "xmp",
}
# A <select>'s options are read, one block each: a schedule's team picker or a size chart's choices
# are content where the extractor keeps them; where it does not, or on the site's template, they go
# with the rest of what it drops.
SKIP_TAGS = {
    "script",
    "style",
    "template",
    "svg",
    "math",
    "head",
    "iframe",
    "object",
    "embed",
    "canvas",
    "input",
    "textarea",
    "audio",
    "video",
    "map",
    "title",
    "meta",
    "link",
}
# Skipped like SKIP_TAGS unless they hold block elements: a <noscript> is mostly a "please enable
# JavaScript" line, but forum software renders the whole thread there for crawlers; a <button> is a
# label, but an unclosed menu button holds the rest of the page.
SKIP_UNLESS_BLOCKS = {"noscript", "button"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_KIND = {
    "li": "list_item",
    "dt": "list_item",
    "dd": "list_item",
    "pre": "code",
    "tr": "table_row",
    "listing": "code",
    "xmp": "code",
    "plaintext": "code",
}
_DIGITS = re.compile(r"\d+")
# where two adjacent inline elements are not separate items: the second starts with punctuation that
# closes the first one's word ("<a>requirement</a><span>.</span>"), or the first ends with one that
# opens the next ("<span>(</span><a>link</a>")
_CLOSING = frozenset(".,;:!?)]}%'’”»…")
_OPENING = frozenset("([{‘“«$£€#")
LINE_NUMBER_CLASSES = frozenset({"ln", "lnt", "lineno", "linenos", "line-number", "line-numbers"})
MAX_CLASSES = 3  # of an element, in its layout path step
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)


class UnparseableHtml(ValueError):
    """lxml could not build any tree from the page."""


def parse_html(content: str) -> html.HtmlElement:
    """lxml.html's tree, which htmldate and trafilatura take."""
    return _parsed(content, html.HTMLParser)


def parse_tree(content: str) -> etree._Element:
    """The same tree built of plain lxml elements, for segment_html and the meta readers: lxml.html
    looks up a Python class for every element the walk touches (~8% of a page's parse and
    segmentation on real pages); the blocks and metadata read from either tree are the same."""
    return _parsed(content, etree.HTMLParser)


def _parsed(content: str, parser_class: type[etree.HTMLParser]) -> Any:
    """Parse forgivingly, with a parser per call (lxml's parsers must not be shared between a Dask
    worker's threads); lxml refuses str input that still carries an XML encoding declaration."""
    content = _XML_DECL.sub("", content, count=1)
    parser = parser_class(remove_comments=True, recover=True, huge_tree=True)
    try:
        root = etree.fromstring(content, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise UnparseableHtml(str(exc)) from exc
    if root is None:
        raise UnparseableHtml("Document is empty")  # lxml.html's own words, whichever tree was asked
    return root


def _kind(tag: str) -> str:
    if tag in HEADINGS:
        return "heading"
    return _KIND.get(tag, "paragraph")


@functools.lru_cache(maxsize=1 << 14)
def layout_step(tag: str, classes: str | None) -> str:
    """One step of a layout path: the tag and up to three of its classes, digits dropped and sorted
    ("div.post.sidebar"), so that the step means the same on every page of a site's template."""
    if not classes:
        return tag
    names = sorted(set(_DIGITS.sub("", classes).split()))[:MAX_CLASSES]
    return ".".join([tag, *names])


@functools.lru_cache(maxsize=1 << 12)
def _tag_name(tag: str) -> str:
    """lxml's tag as a plain lower-case name ("{http://www.w3.org/2000/svg}svg" -> "svg")."""
    return tag.lower().rsplit("}", 1)[-1]


def _holds_blocks(el: etree._Element) -> bool:
    return any(isinstance(d.tag, str) and _tag_name(d.tag) in BLOCK_TAGS for d in el.iterdescendants())


def _is_line_number_mark(el: etree._Element) -> bool:
    """A highlighter's line number set inline at the start of each code line (Hugo's chroma
    `<span class="ln">`, Pygments' `linenos`, Rouge's `lineno`): layout, and glued to the line's first
    word ("1package") if it were read as text."""
    classes = el.get("class")
    if not classes or LINE_NUMBER_CLASSES.isdisjoint(classes.split()):
        return False
    text = "".join(el.itertext()).strip()
    return text.isascii() and text.isdigit()


def _attached(before: str, el: etree._Element) -> bool:
    """Whether an inline element's text continues the text before it with no space between: it
    starts with closing punctuation, or the text before ends with opening punctuation."""
    if before and before[-1] in _OPENING:
        return True
    first = el.text or next((t for t in el.itertext() if t), "")
    return bool(first) and first[0] in _CLOSING


def segment_html(root: etree._Element) -> list[Block]:
    """Blocks in document order. A block is the inline text owned by its nearest block-level ancestor,
    split wherever a nested block element starts or ends; table cells are joined with ' | '.
    The walk is the parser's hot loop (every element of every page): names are looked up, not rebuilt."""
    blocks: list[Block] = []
    stack: list[tuple[str, str, str]] = []  # (tag, path, layout path) of open block elements
    parts: list[str] = []
    in_pre = 0
    has_word = HAS_WORD.search

    def flush() -> None:
        if not parts or not stack:
            parts.clear()
            return
        raw = "".join(parts)
        parts.clear()
        tag, path, layout = stack[-1]
        text = raw.strip("\n") if in_pre else " ".join(raw.split())  # = re.sub(r"\s+", " ", raw).strip()
        if has_word(text):  # segment_text.has_content: lines such as ";" are noise
            blocks.append(
                Block(
                    position=len(blocks),
                    kind=_kind(tag),
                    text=text,
                    tag_path=path,
                    tag=tag,
                    layout_path=layout,
                )
            )

    path_tags: list[str] = []
    layout_steps: list[str] = []
    closed_bare = False  # the last event closed an element with no text after it
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        tag = _tag_name(tag) if isinstance(tag, str) else ""
        if event == "start":
            if (
                not tag
                or tag in SKIP_TAGS
                or (tag in SKIP_UNLESS_BLOCKS and not _holds_blocks(el))
                or (in_pre and _is_line_number_mark(el))
            ):
                walker.skip_subtree()
                path_tags.append(tag)
                layout_steps.append(tag)
                continue
            path_tags.append(tag)
            classes = el.get("class")
            layout_steps.append(layout_step(tag, classes) if classes else tag)
            if tag in BLOCK_TAGS:
                if parts:
                    flush()
                stack.append((tag, sys.intern("/".join(path_tags)), sys.intern("/".join(layout_steps))))
                if tag == "pre":
                    in_pre += 1
            elif closed_bare and parts and not in_pre and tag != "br" and not _attached(parts[-1], el):
                # an inline element that starts right where another ended ("<span>2026</span><span>1h
                # </span>") is a separate item: its words do not run into the other's. Text that goes
                # on after an element ("<b>W</b>ord", "H<sub>2</sub>O") is its tail and stays joined,
                # and so does punctuation in an element of its own ("<a>word</a><span>.</span>").
                parts.append(" ")
            if tag == "br":
                parts.append("\n")
            elif tag in ("td", "th") and parts and stack and stack[-1][0] == "tr":
                parts.append(" | ")
            text = el.text
            if text:
                parts.append(text)
            closed_bare = False
        else:
            path_tags.pop()
            layout_steps.pop()
            if tag in BLOCK_TAGS:
                if parts:
                    flush()
                stack.pop()
                if tag == "pre":
                    in_pre -= 1
            tail = el.tail
            if tail:
                parts.append(tail)
            closed_bare = not tail
    flush()
    return _without_line_numbers(blocks)


def _without_line_numbers(blocks: list[Block]) -> list[Block]:
    """Drop the line-number column that code highlighters set beside the code (Hexo, Pygments, Rouge,
    Hugo's table mode: a table row whose first cell holds only "1 2 3 ...", the next the code): the
    numbers are layout, not text, and would count as words of every page that shows code."""
    gutters = {i for i in range(len(blocks) - 1) if _is_line_number_column(blocks[i], blocks[i + 1])}
    if not gutters:
        return blocks
    kept = [b for i, b in enumerate(blocks) if i not in gutters]
    for position, block in enumerate(kept):
        block.position = position
    return kept


def _is_line_number_column(block: Block, following: Block) -> bool:
    if block.kind != "code" or following.kind != "code":
        return False
    numbers = block.text.split()
    if not all(n.isascii() and n.isdigit() for n in numbers):
        return False
    first = int(numbers[0])
    if numbers != [str(n) for n in range(first, first + len(numbers))]:
        return False
    row = block.tag_path.rfind("/tr/")
    return row >= 0 and following.tag_path.startswith(block.tag_path[: row + 4])
