"""A site's layout model: which parts of its page template hold the article, learned from the pages
trafilatura was run on (the layout sample) and applied to the others, so the expensive extractor runs
on a few dozen pages of a large site instead of all of them. Pure.

The model counts, for every layout-path prefix ("html/body/main.wrapper", "html/body/main.wrapper/p"),
the characters trafilatura kept and dropped in the sample's blocks under it. A block of another page
takes the decision of its deepest prefix with enough evidence: main when most of the sampled text
under it was kept. A block under no known prefix is kept (the boilerplate model still removes what
repeats). Which pages are sampled is decided before parsing, by pipeline/acquire/sample.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from pipeline.records import ParsedPage
from pipeline.schemas import LAYOUT_STATE

LEARNED_FROM = "trafilatura"
LAYOUT = "layout"  # the extractor label of a page whose main content came from the model


PathCounts = dict[str, list[int]]  # layout path -> [characters kept by trafilatura, dropped, blocks]


def path_counts(pages: list[ParsedPage]) -> PathCounts:
    """Blocks of these pages summed per layout path (votes before their prefixes are expanded)."""
    counts: PathCounts = {}
    for page in pages:
        for b in page.blocks:
            v = counts.get(b.layout_path)
            if v is None:
                v = counts[b.layout_path] = [0, 0, 0]
            v[0 if b.in_main else 1] += len(b.text)
            v[2] += 1
    return counts


def column_path_counts(path: np.ndarray, paths: list[str], size: np.ndarray, main: np.ndarray) -> PathCounts:
    """path_counts from columns: per block, its layout path (index into `paths`), its characters and
    whether the extractor kept it."""
    n = len(paths)
    kept = np.bincount(path, weights=np.where(main, size, 0), minlength=n).astype(np.int64)
    dropped = np.bincount(path, weights=np.where(main, 0, size), minlength=n).astype(np.int64)
    blocks = np.bincount(path, minlength=n)
    return {p: [k, d, b] for p, k, d, b in zip(paths, kept.tolist(), dropped.tolist(), blocks.tolist()) if b}


def prefixes(layout_path: str) -> list[str]:
    """Every ancestor path of a block, deepest first: a/b/c -> [a/b/c, a/b, a]."""
    parts = layout_path.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


def decide(layout_path: str, decisions: dict[str, bool]) -> bool:
    """A block's decision: that of its deepest prefix with evidence; kept when none has any."""
    return next((decisions[q] for q in prefixes(layout_path) if q in decisions), True)


@dataclass
class LayoutModel:
    votes: dict[str, list[int]] = field(default_factory=dict)  # prefix -> [main chars, other chars, blocks]
    applied: set[str] = field(default_factory=set)  # layout paths of the blocks it decided
    min_evidence: int = 3  # sampled blocks under a prefix before it decides anything (ExtractConfig)

    def add(self, page: ParsedPage) -> None:
        """Count a sampled page's blocks under every prefix of their paths."""
        self.add_counts(path_counts([page]))

    def add_counts(self, counts: PathCounts) -> None:
        """Count blocks already summed per layout path under every prefix of the path (a page
        repeats a few dozen paths over its ~100 blocks: each is expanded once)."""
        for path, (main, other, n) in counts.items():
            for p in prefixes(path):
                v = self.votes.setdefault(p, [0, 0, 0])
                v[0] += main
                v[1] += other
                v[2] += n

    def decisions(self) -> dict[str, bool]:
        """prefix -> main?, for the prefixes with enough evidence: all that applying the model reads."""
        return {p: v[0] >= v[1] for p, v in self.votes.items() if v[2] >= self.min_evidence}

    def same_for_applied(self, before: dict[str, bool]) -> bool:
        """Whether every block decided under the `before` decisions is decided the same now."""
        now = self.decisions()
        return now == before or all(decide(p, now) == decide(p, before) for p in self.applied)

    def table(self) -> pa.Table:
        keys = sorted(set(self.votes) | self.applied)
        zero = [0, 0, 0]
        return pa.Table.from_pydict(
            {
                "prefix": keys,
                "main_chars": [self.votes.get(k, zero)[0] for k in keys],
                "other_chars": [self.votes.get(k, zero)[1] for k in keys],
                "blocks": [self.votes.get(k, zero)[2] for k in keys],
                "applied": [k in self.applied for k in keys],
            },
            schema=LAYOUT_STATE,
        )

    @classmethod
    def from_table(cls, table: pa.Table, min_evidence: int) -> LayoutModel:
        cols = table.to_pydict()
        votes = {
            p: [m, o, n]
            for p, m, o, n in zip(cols["prefix"], cols["main_chars"], cols["other_chars"], cols["blocks"])
            if n
        }
        return cls(votes, {p for p, a in zip(cols["prefix"], cols["applied"]) if a}, min_evidence)


def teaches(page: ParsedPage) -> bool:
    """A sampled page on which trafilatura found an article: its in_main flags are what is learned."""
    return page_teaches(page.in_sample, page.extractor)


def page_teaches(in_sample: bool, extractor: str) -> bool:
    """teaches() from a page's two state columns (state.SitePages asks without making objects)."""
    return bool(in_sample) and extractor == LEARNED_FROM


def needs_layout(page: ParsedPage) -> bool:
    """An HTML page outside the layout sample: its main content comes from the model."""
    return not page.in_sample and page.page.kind == "html"


def apply_layout(pages: list[ParsedPage], model: LayoutModel) -> None:
    """Set in_main on the blocks of every page outside the sample."""
    decisions = model.decisions()
    by_path: dict[str, bool] = {}  # a template has few distinct paths: decide each once
    for p in pages:
        if not needs_layout(p):
            continue
        for b in p.blocks:
            main = by_path.get(b.layout_path)
            if main is None:
                main = by_path[b.layout_path] = decide(b.layout_path, decisions)
            b.in_main = main
        p.extractor = LAYOUT
    model.applied |= by_path.keys()
