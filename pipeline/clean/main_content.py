"""Which blocks of an HTML page are main content, by asking trafilatura and matching its output back
onto our own blocks. trafilatura removes per-page clutter (related links, share bars); the site model
later removes what repeats across pages. Pure (CPU only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from pipeline.records import Block

_TOKEN = re.compile(r"\w+")
# trafilatura output elements after which words must not run together ("<cell>a</cell><cell>b</cell>")
_SEPARATED = {"p", "head", "item", "cell", "row", "quote", "code", "list", "table", "lb", "graphic"}
_MAX_GLUED_CHARS = 40  # longer tokens are not tried as glued ones (a URL, a hash)
MIN_MATCHED_SHARE = 0.5  # a block is main content when at least this share of its tokens is in the output
MIN_MOVED_RUN = 6  # tokens in a row before output found out of page order counts as a block's
MAX_MOVED_PASSES = 4


def norm_tokens(text: str) -> str:
    """Lower-cased word tokens joined by single spaces: the form used to match texts to each other."""
    return " ".join(_TOKEN.findall(text.lower()))


@dataclass
class Extraction:
    tokens: list[str]  # lower-cased word tokens of everything trafilatura kept, in its order
    document: Any = None  # trafilatura's Document: its metadata fields (clean/page_meta.py reads them)


def run_trafilatura(content: str, url: str | None, with_metadata: bool = True) -> Extraction | None:
    """trafilatura's main content at its default settings: fallback extractors included (without
    them it misses whole pages that readability or jusText find). Its comments section, which it
    keeps apart from the body, is not content here (as in its own `text`); a forum's posts are in
    the body. None when it finds nothing.

    With its metadata: author bylines, tag and category links that the page's <meta> and JSON-LD
    do not carry (clean/page_meta.py); titles and dates stay with titles.py and html_meta.py.
    Imported here: only the parser processes need it (preloaded by their fork server), and it costs
    the main process 0.3 s."""
    import trafilatura

    # comments on, as by default: trafilatura then takes them out before it looks for the body, and
    # without that step it finds next to nothing on forum pages (their posts are in <ol>/<li> threads)
    doc = trafilatura.bare_extraction(content, url=url, with_metadata=with_metadata)
    body: Any = getattr(doc, "body", None)  # an lxml element (trafilatura 2's Document)
    if body is None:
        return None
    tokens = _TOKEN.findall(_element_text(body).lower())
    return Extraction(tokens=tokens, document=doc if with_metadata else None) if tokens else None


def _element_text(el: Any) -> str:
    """Text of an output element with a space after each block-like child, iteratively."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(el, False)]
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


def matched_shares(blocks: list[Block], ext: Extraction) -> list[float]:
    """For each block, the share of its tokens found in the extractor's output, in order: the page's
    tokens and the output's are aligned once (difflib's longest matching runs, as `diff` does), so a
    block that differs by a few tokens (a link suffix ", opens new tab", a dropped footnote mark)
    still counts as kept, and text the page carries twice is matched once. A page token that is two
    of the output's run together ("20261h" where it has "2026 1h": adjacent <span>s that a fallback
    extractor separated) is split first. Output that the first alignment could not place (trafilatura
    puts what a fallback extractor adds after its own text, out of page order) is aligned a second
    time against the blocks still unmatched, by runs of at least `MIN_MOVED_RUN` tokens."""
    page_tokens: list[str] = []
    owner: list[int] = []  # block index of each page token
    sizes: list[int] = []
    vocabulary = set(ext.tokens)
    for i, b in enumerate(blocks):
        toks = [piece for t in _TOKEN.findall(b.text.lower()) for piece in split_glued(t, vocabulary)]
        page_tokens += toks
        owner += [i] * len(toks)
        sizes.append(len(toks))
    matched = [0] * len(blocks)
    used = [False] * len(ext.tokens)
    for a, at, size in SequenceMatcher(None, page_tokens, ext.tokens).get_matching_blocks():
        for k in range(size):
            matched[owner[a + k]] += 1
            used[at + k] = True
    _match_moved(page_tokens, owner, sizes, matched, ext.tokens, used)
    return [m / n if n else 0.0 for m, n in zip(matched, sizes)]


def _match_moved(
    page_tokens: list[str],
    owner: list[int],
    sizes: list[int],
    matched: list[int],
    out: list[str],
    used: list[bool],
) -> None:
    """Align the output's unplaced tokens against the tokens of blocks that are not yet main content,
    again while that places more (moved sections may be out of order among themselves too). Short
    runs are not trusted: a nav's "Mac iPad" may match any stray words."""
    for _ in range(MAX_MOVED_PASSES):
        rest = [k for k, u in enumerate(used) if not u]
        if len(rest) < MIN_MOVED_RUN:
            return
        short = {i for i, n in enumerate(sizes) if n and matched[i] < MIN_MATCHED_SHARE * n}
        picked = [k for k, i in enumerate(owner) if i in short]
        if not picked:
            return
        runs = SequenceMatcher(
            None, [page_tokens[k] for k in picked], [out[k] for k in rest]
        ).get_matching_blocks()
        placed = False
        for a, b, size in runs:
            if size >= MIN_MOVED_RUN:
                placed = True
                for k in range(size):
                    matched[owner[picked[a + k]]] += 1
                    used[rest[b + k]] = True
        if not placed:
            return


def split_glued(token: str, vocabulary: set[str]) -> list[str]:
    """A token not in the vocabulary that is two or three vocabulary tokens run together, split into
    them ("20261h" -> ["2026", "1h"]); else the token itself."""
    if token in vocabulary or len(token) > _MAX_GLUED_CHARS:
        return [token]
    for cut in range(1, len(token)):
        head, tail = token[:cut], token[cut:]
        if head in vocabulary:
            if tail in vocabulary:
                return [head, tail]
            for cut2 in range(1, len(tail)):
                if tail[:cut2] in vocabulary and tail[cut2:] in vocabulary:
                    return [head, tail[:cut2], tail[cut2:]]
    return [token]


def mark_main(blocks: list[Block], ext: Extraction) -> None:
    """Set in_main on the blocks whose tokens trafilatura kept (most of them, in order)."""
    for b, share in zip(blocks, matched_shares(blocks, ext)):
        b.in_main = share >= MIN_MATCHED_SHARE
