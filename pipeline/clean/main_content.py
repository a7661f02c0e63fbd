"""Which blocks of an HTML page are main content, by asking trafilatura and matching its output back
onto our own blocks. trafilatura removes per-page clutter (related links, share bars); the site model
later removes what repeats across pages. Pure (CPU only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.records import Block

_TOKEN = re.compile(r"\w+")
# trafilatura output elements after which words must not run together ("<cell>a</cell><cell>b</cell>")
_SEPARATED = {"p", "head", "item", "cell", "row", "quote", "code", "list", "table", "lb", "graphic"}


def norm_tokens(text: str) -> str:
    """Lower-cased word tokens joined by single spaces: the form used to match texts to each other."""
    return " ".join(_TOKEN.findall(text.lower()))


@dataclass
class Extraction:
    texts: set[str]  # normalised text of each element trafilatura kept
    joined: str  # normalised text of everything it kept


def run_trafilatura(content: str, url: str | None) -> Extraction | None:
    """trafilatura's main content; None when it finds nothing.

    Asked for the body only: its metadata pass (1.8 of 4 ms a page) found nothing that titles.py and
    html_meta.py do not, and its fallback extractors (`fast=True` skips them, 0.7 ms) changed the
    output of 5 of the 181 aeb pages but not which of our blocks match it (bench/quality.py scores
    are equal to three decimals, bench/RESULTS.md "Session 5"). Imported here: only the parser
    processes need it (preloaded by their fork server), and it costs the main process 0.3 s."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        content,
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        fast=True,
        deduplicate=False,
    )
    if doc is None or getattr(doc, "body", None) is None:
        return None
    texts: set[str] = set()
    for el in doc.body.iter():
        if isinstance(el.tag, str) and el.tag != "body":
            n = norm_tokens(_element_text(el))
            if n:
                texts.add(n)
    joined = norm_tokens(_element_text(doc.body))
    if not joined:
        return None
    return Extraction(texts=texts, joined=joined)


def _element_text(el) -> str:
    """Text of an output element with a space after each block-like child, iteratively."""
    parts: list[str] = []
    stack: list[tuple[object, bool]] = [(el, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.tag in _SEPARATED:
                parts.append(" ")
            if node is not el and node.tail:
                parts.append(node.tail)
            continue
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node) if isinstance(child.tag, str))
    return "".join(parts)


def mark_main(blocks: list[Block], ext: Extraction) -> None:
    """Set in_main on blocks that trafilatura kept: exact element match, block inside its text, or one
    of its elements inside the block (our blocks and its elements are cut at different places)."""
    long_elements = [t for t in ext.texts if t.count(" ") >= 2]
    for b in blocks:
        nb = norm_tokens(b.text)
        if not nb:
            b.in_main = False
        elif nb in ext.texts or (" " in nb or len(nb) >= 8) and nb in ext.joined:
            b.in_main = True
        else:
            # a container block holding kept elements is main only if they make up most of it:
            # a hidden full-text copy of the article must not come back in through this door
            covered = sum(len(t) for t in long_elements if t in nb)
            b.in_main = covered >= 0.5 * len(nb)
