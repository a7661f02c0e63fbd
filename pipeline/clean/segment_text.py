"""Plain text -> ordered blocks: blank-line paragraphs, one block per bullet, noise lines dropped. Pure."""

from __future__ import annotations

import re

from pipeline.records import Block

_BULLET = re.compile(r"^\s*(?:[•·▪◦‣●○■□–—*+\-]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")
HAS_WORD = re.compile(r"\w")  # a block needs a word character (segment_html uses it directly)
_HARD_WRAP_WIDTH = 80  # typical width of hard-wrapped plain text


def has_content(text: str) -> bool:
    """Lines such as ';' or a lone non-breaking space carry no words: they are noise, not blocks."""
    return bool(HAS_WORD.search(text))


def _heading_like(line: str) -> bool:
    return len(line) <= 200 and not line.rstrip().endswith((".", ",", ";", ":", "!", "?", '"', "”"))


def segment_text(content: str) -> list[Block]:
    """Split plain text into blocks. Each line is its own block (text as fetched from a browser has
    one line per HTML block), except that a line starting in lower case continues the one before
    (hard-wrapped prose), and a bullet line is a list item."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", content):
        lines = [ln.strip() for ln in chunk.split("\n") if ln.strip()]
        if not lines:
            continue
        units: list[list] = []  # [text, is_bullet]
        for ln in lines:
            is_bullet = bool(_BULLET.match(ln))
            continues = (
                units and not is_bullet and ln[:1].islower() and len(units[-1][0]) <= _HARD_WRAP_WIDTH * 2
            )
            if continues:
                units[-1][0] += " " + ln
            else:
                units.append([ln, is_bullet])
        for text, is_bullet in units:
            if not has_content(text):
                continue
            if is_bullet:
                kind, text = "list_item", _BULLET.sub("", text, count=1).strip()
            else:
                kind = "heading" if _heading_like(text) and len(text) <= 120 else "paragraph"
            blocks.append(Block(position=len(blocks), kind=kind, text=re.sub(r"[ \t]+", " ", text)))
    return blocks
