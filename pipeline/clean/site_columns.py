"""A site's blocks as integer columns in page order, and its boilerplate clusters counted on them with
numpy: a 100,000-page site has ~11 million blocks, and a Python object (or dict lookup) per block in
each counting pass cost more than parsing the pages did. Pure.

The counts are those `boilerplate.assign_clusters` gives over the same blocks in page order (the
append path still uses that one on its few new pages; the tests compare the two paths' output).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from pipeline.clean.boilerplate import ClusterStats, cluster_id
from pipeline.clean.main_content import norm_tokens
from pipeline.config import BoilerplateConfig
from pipeline.records import ParsedPage

_KEY_BITS = 36      # cluster key: text index (up to 68 billion distinct texts)
_REGION_BITS = 26   # region: tag path index (up to 67 million distinct paths)


@dataclass
class SiteColumns:
    """One row per block of the site, pages in page order, blocks in position order."""
    doc: np.ndarray           # int32: the page's number in page order
    text: np.ndarray          # int32: index into texts
    tag_path: np.ndarray      # int32: index into tag_paths
    dateline: np.ndarray      # bool
    texts: list[str]          # distinct block texts
    tag_paths: list[str]      # distinct tag paths
    _norms: list[str] | None = field(default=None, repr=False)

    @classmethod
    def of_pages(cls, pages: list[ParsedPage]) -> SiteColumns:
        """From pages in memory (already in page order)."""
        text_ids: dict[str, int] = {}
        path_ids: dict[str, int] = {}
        doc, text, path, dateline = [], [], [], []
        for i, p in enumerate(pages):
            for b in p.blocks:
                doc.append(i)
                text.append(text_ids.setdefault(b.text, len(text_ids)))
                path.append(path_ids.setdefault(b.tag_path, len(path_ids)))
                dateline.append(b.is_dateline)
        return cls(np.array(doc, np.int32), np.array(text, np.int32), np.array(path, np.int32),
                   np.array(dateline, bool), list(text_ids), list(path_ids))

    def __len__(self) -> int:
        return len(self.doc)

    def norms(self) -> list[str]:
        """Each distinct text's normalised form (norm_tokens), computed once."""
        if self._norms is None:
            self._norms = [norm_tokens(t) for t in self.texts]
        return self._norms

    def clusterable_norms(self) -> set[str]:
        """The normalised texts that are clustered: those of blocks that are not date lines, if not empty."""
        norms = self.norms()
        used = np.unique(self.text[~self.dateline]).tolist()
        return {norms[i] for i in used} - {""}


@dataclass
class ClusterRows:
    """Every block row's cluster, and the clusters' stats."""
    row_cluster: np.ndarray          # int32 per block row: index into names
    names: list[str]                 # cluster ids, sorted
    stats: dict[str, ClusterStats]   # by cluster id, in id order


ROW_STEP = 1 << 20  # block rows counted at a time (whole pages): temporaries stay ~50 MB on any site


def _row_steps(doc: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges of about ROW_STEP rows that never split a page (rows are in page order)."""
    steps, lo, n = [], 0, len(doc)
    while lo < n:
        hi = min(n, lo + ROW_STEP)
        if hi < n:
            hi = int(np.searchsorted(doc, doc[hi], side="left"))  # back to the start of that page
            if hi <= lo:
                hi = int(np.searchsorted(doc, doc[lo], side="right"))
        steps.append((lo, hi))
        lo = hi
    return steps


def count_clusters(cols: SiteColumns, keys: dict[str, str], cfg: BoilerplateConfig) -> ClusterRows:
    """Cluster every block as assign_clusters does (date lines and empty texts by their own text, the
    rest by their text's cluster key; per region when cfg.by_region) and count each cluster's
    distinct pages, text variants and normalised texts; a cluster's tag path and date-line flag are
    those of its first block in page order. Works through the rows ROW_STEP at a time."""
    norms = cols.norms()
    norm_ids: dict[str, int] = {}
    text_norm = np.array([norm_ids.setdefault(n, len(norm_ids)) for n in norms], np.int64)
    text_key = np.array([norm_ids.get(keys[n], -1) if n in keys else -1 for n in norms], np.int64)
    norm_names = list(norm_ids)
    if len(norm_names) >= 1 << _KEY_BITS or len(cols.tag_paths) >= 1 << _REGION_BITS:
        raise ValueError("too many distinct texts or tag paths in one site to count its clusters")
    empty_norm = norm_ids.get("", -1)

    def cluster_keys(lo: int, hi: int) -> np.ndarray:
        """(own-text flag, region, key text) of rows lo:hi packed into one int64."""
        text = cols.text[lo:hi].astype(np.int64)
        row_norm = text_norm[text]
        by_own_text = cols.dateline[lo:hi] | (row_norm == empty_norm)
        key = np.where(by_own_text, row_norm, text_key[text])
        if (key < 0).any():
            raise ValueError("a block's text has no cluster key: the keys were made from other texts")
        region = cols.tag_path[lo:hi].astype(np.int64) if cfg.by_region else 0
        return (by_own_text.astype(np.int64) << (_KEY_BITS + _REGION_BITS)) | (region << _KEY_BITS) | key

    steps = _row_steps(cols.doc)
    found, firsts = [], []
    for lo, hi in steps:
        u, first = np.unique(cluster_keys(lo, hi), return_index=True)
        found.append(u)
        firsts.append(first + lo)
    uniq, where = np.unique(np.concatenate(found or [np.empty(0, np.int64)]), return_index=True)
    first = np.concatenate(firsts or [np.empty(0, np.int64)])[where]  # steps are in row order: earliest wins
    del found, firsts, where

    row_cluster = np.empty(len(cols), np.int32)
    n_pages = np.zeros(len(uniq), np.int64)
    variant_pairs, variant_counts = [], []
    for lo, hi in steps:
        c = np.searchsorted(uniq, cluster_keys(lo, hi))
        row_cluster[lo:hi] = c
        n_pages += np.bincount(np.unique((c << 32) | cols.doc[lo:hi]) >> 32, minlength=len(uniq))  # steps hold whole pages
        pairs, counts = np.unique((c << 32) | cols.text[lo:hi], return_counts=True)
        variant_pairs.append(pairs)
        variant_counts.append(counts)
    pairs, inverse = np.unique(np.concatenate(variant_pairs or [np.empty(0, np.int64)]), return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), weights=np.concatenate(variant_counts or [np.empty(0, np.int64)]),
                         minlength=len(pairs)).astype(np.int64)
    del variant_pairs, variant_counts, inverse

    key_mask, region_mask = (1 << _KEY_BITS) - 1, (1 << _REGION_BITS) - 1
    names = [cluster_id("d" if u >> (_KEY_BITS + _REGION_BITS) else "c",
                        cols.tag_paths[(u >> _KEY_BITS) & region_mask] if cfg.by_region else "",
                        norm_names[u & key_mask]) for u in uniq.tolist()]
    stats = [ClusterStats(n, bool(cols.dateline[f]), cols.tag_paths[cols.tag_path[f]], Counter(), set(),
                          norm_names[u & key_mask])
             for n, f, u in zip(n_pages.tolist(), first.tolist(), uniq.tolist())]
    for c, t, count in zip((pairs >> 32).tolist(), (pairs & 0xFFFFFFFF).tolist(), counts.tolist()):
        st = stats[c]
        st.variants[cols.texts[t]] = count
        st.norms.add(norms[t])

    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return ClusterRows(rank[row_cluster], [names[i] for i in order], {names[i]: stats[i] for i in order})
