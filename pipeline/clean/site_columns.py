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
    doc: np.ndarray           # int64: the page's number in page order
    text: np.ndarray          # int64: index into texts
    tag_path: np.ndarray      # int64: index into tag_paths
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
        return cls(np.array(doc, np.int64), np.array(text, np.int64), np.array(path, np.int64),
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


def count_clusters(cols: SiteColumns, keys: dict[str, str], cfg: BoilerplateConfig) -> ClusterRows:
    """Cluster every block as assign_clusters does (date lines and empty texts by their own text, the
    rest by their text's cluster key; per region when cfg.by_region) and count each cluster's
    distinct pages, text variants and normalised texts; a cluster's tag path and date-line flag are
    those of its first block in page order."""
    norms = cols.norms()
    norm_ids: dict[str, int] = {}
    text_norm = np.array([norm_ids.setdefault(n, len(norm_ids)) for n in norms], np.int64)
    text_key = np.array([norm_ids.get(keys[n], -1) if n in keys else -1 for n in norms], np.int64)
    norm_names = list(norm_ids)
    if len(norm_names) >= 1 << _KEY_BITS or len(cols.tag_paths) >= 1 << _REGION_BITS:
        raise ValueError("too many distinct texts or tag paths in one site to count its clusters")

    row_norm = text_norm[cols.text]
    by_own_text = cols.dateline.copy()
    if "" in norm_ids:
        by_own_text |= row_norm == norm_ids[""]
    key = np.where(by_own_text, row_norm, text_key[cols.text])
    del row_norm
    if (key < 0).any():
        raise ValueError("a block's text has no cluster key: the keys were made from other texts")
    region = cols.tag_path if cfg.by_region else np.zeros(len(cols), np.int64)
    combined = (by_own_text.astype(np.int64) << (_KEY_BITS + _REGION_BITS)) | (region << _KEY_BITS) | key
    del key, by_own_text
    uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    del combined
    inverse = inverse.astype(np.int64).reshape(-1)

    names = [cluster_id("d" if u >> (_KEY_BITS + _REGION_BITS) else "c",
                        cols.tag_paths[(u >> _KEY_BITS) & ((1 << _REGION_BITS) - 1)] if cfg.by_region else "",
                        norm_names[u & ((1 << _KEY_BITS) - 1)]) for u in uniq.tolist()]
    pages = np.unique((inverse << 32) | cols.doc)
    n_pages = np.bincount(pages >> 32, minlength=len(uniq)).tolist()
    del pages
    stats = [ClusterStats(n, bool(cols.dateline[f]), cols.tag_paths[cols.tag_path[f]], Counter(), set(),
                          norm_names[u & ((1 << _KEY_BITS) - 1)])
             for n, f, u in zip(n_pages, first.tolist(), uniq.tolist())]
    pairs, counts = np.unique((inverse << 32) | cols.text, return_counts=True)
    for c, t, count in zip((pairs >> 32).tolist(), (pairs & 0xFFFFFFFF).tolist(), counts.tolist()):
        st = stats[c]
        st.variants[cols.texts[t]] = count
        st.norms.add(norms[t])
    del pairs, counts

    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return ClusterRows(rank[inverse], [names[i] for i in order], {names[i]: stats[i] for i in order})
