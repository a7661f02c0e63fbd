"""Plain text -> ordered blocks: blank-line paragraphs, one block per bullet, noise lines dropped. Pure."""
from __future__ import annotations

import re

from pipeline.records import Block

_BULLET = re.compile(r"^\s*(?:[•·▪◦‣●○■□–—*+\-]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")
_HAS_WORD = re.compile(r"\w")
_HARD_WRAP_WIDTH = 80  # paragraphs whose lines all fit this width are treated as hard-wrapped prose


def has_content(text: str) -> bool:
    """Lines such as ';' or a lone non-breaking space carry no words: they are noise, not blocks."""
    return bool(_HAS_WORD.search(text))


def _heading_like(line: str) -> bool:
    return len(line) <= 200 and not line.rstrip().endswith((".", ",", ";", ":", "!", "?", '"', "”"))


def segment_text(content: str) -> list[Block]:
    """Split plain text into blocks. Each line of a paragraph is its own block unless the paragraph
    looks hard-wrapped (several lines, all within 80 columns, no bullets), when lines are joined."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", content):
        lines = [ln.strip() for ln in chunk.split("\n") if ln.strip()]
        if not lines:
            continue
        bullets = [bool(_BULLET.match(ln)) for ln in lines]
        hard_wrapped = len(lines) > 1 and not any(bullets) and all(len(ln) <= _HARD_WRAP_WIDTH for ln in lines)
        if hard_wrapped and not all(_heading_like(ln) for ln in lines[:-1]):
            units = [(" ".join(lines), False)]
        else:
            units = list(zip(lines, bullets))
        for text, is_bullet in units:
            if not has_content(text):
                continue
            if is_bullet:
                kind, text = "list_item", _BULLET.sub("", text, count=1).strip()
            else:
                kind = "heading" if _heading_like(text) and len(text) <= 120 else "paragraph"
            blocks.append(Block(position=len(blocks), kind=kind, text=re.sub(r"[ \t]+", " ", text)))
    return blocks
