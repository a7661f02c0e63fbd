"""A site's blocks as integer columns in page order, and its boilerplate clusters counted on them with
numpy: a 100,000-page site has ~11 million blocks, and a Python object (or dict lookup) per block in
each counting pass cost more than parsing the pages did. Pure.

The counts are those `boilerplate.assign_clusters` gives over the same blocks in page order (the
append path still uses that one on its few new pages; the tests compare the two paths' output).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.clean.arrays import unique_sorted
from pipeline.clean.boilerplate import ClusterStats, cluster_id, template_mask
from pipeline.clean.main_content import norm_tokens
from pipeline.config import BoilerplateConfig
from pipeline.records import BoilerplateCluster, ParsedPage

_KEY_BITS = 36  # cluster key: text index (up to 68 billion distinct texts)
_REGION_BITS = 26  # region: tag path index (up to 67 million distinct paths)
_TEXT_STEP = 1 << 16  # texts turned into Python strings at a time


@dataclass
class SiteColumns:
    """One row per block of the site, pages in page order, blocks in position order."""

    doc: np.ndarray  # int32: the page's number in page order
    text: np.ndarray  # int32: index into texts
    tag_path: np.ndarray  # int32: index into tag_paths
    dateline: np.ndarray  # bool
    texts: pa.Array  # distinct block texts (Arrow: no Python string per text is kept)
    tag_paths: list[str]  # distinct tag paths
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
        return cls(
            np.array(doc, np.int32),
            np.array(text, np.int32),
            np.array(path, np.int32),
            np.array(dateline, bool),
            pa.array(list(text_ids), pa.large_string()),
            list(path_ids),
        )

    def __len__(self) -> int:
        return len(self.doc)

    def norms(self) -> list[str]:
        """Each distinct text's normalised form (norm_tokens), computed once."""
        if self._norms is None:
            self._norms = [
                norm_tokens(t)
                for lo in range(0, len(self.texts), _TEXT_STEP)
                for t in self.texts.slice(lo, _TEXT_STEP).to_pylist()
            ]
        return self._norms

    def clusterable_norms(self) -> set[str]:
        """The normalised texts that are clustered: those of blocks that are not date lines, if not empty."""
        norms = self.norms()
        used = unique_sorted(self.text[~self.dateline]).tolist()
        return {norms[i] for i in used} - {""}


@dataclass
class ClusterTable:
    """Every cluster's stats as columns, clusters in id order: what ClusterStats objects hold, without
    a Counter and a set per cluster (a 100,000-page site has ~750,000 clusters)."""

    ids: list[str]  # cluster ids, sorted
    n_pages: np.ndarray  # int64: distinct pages
    dateline: np.ndarray  # bool: its first block is a date line
    tag_paths: list[str]  # its first block's tag path
    keys: list[str]  # the cluster key its id was made from
    variant_cluster: np.ndarray  # int64, ascending: (cluster, text, count) of every variant
    variant_text: np.ndarray  # int64: index into texts
    variant_count: np.ndarray  # int64
    norm_cluster: np.ndarray  # int64, ascending: (cluster, normalised text) pairs
    norm_text: np.ndarray  # int64: index into norms
    texts: pa.Array
    norms: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def _spans(self, cluster_of: np.ndarray) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(np.bincount(cluster_of, minlength=len(self))))).astype(np.int64)

    def boilerplate(self, n_site_pages: int, cfg: BoilerplateConfig) -> list[BoilerplateCluster]:
        """boilerplate.boilerplate_clusters of these stats: the clusters that are template."""
        template = template_mask(self.n_pages, self.dateline, n_site_pages, cfg)
        v_spans, n_spans = self._spans(self.variant_cluster), self._spans(self.norm_cluster)
        out = []
        for c in np.flatnonzero(template).tolist():
            lo, hi = v_spans[c], v_spans[c + 1]
            variants = zip(
                self.texts.take(pa.array(self.variant_text[lo:hi])).to_pylist(),
                self.variant_count[lo:hi].tolist(),
            )
            text = min(variants, key=lambda tc: (-tc[1], tc[0]))[0]
            n = int(self.n_pages[c])
            out.append(
                BoilerplateCluster(
                    cluster_id=self.ids[c],
                    text=text,
                    tag_path=self.tag_paths[c],
                    n_pages=n,
                    share_of_pages=n / n_site_pages,
                    n_variants=int(n_spans[c + 1] - n_spans[c]),
                )
            )
        return out

    def stats(self) -> dict[str, ClusterStats]:
        """As ClusterStats objects, by id (small sites kept in memory; the tests)."""
        out = {
            cid: ClusterStats(int(n), bool(d), tp, Counter(), set(), k)
            for cid, n, d, tp, k in zip(
                self.ids, self.n_pages.tolist(), self.dateline.tolist(), self.tag_paths, self.keys
            )
        }
        texts = self.texts.to_pylist()
        for c, t, count in zip(
            self.variant_cluster.tolist(), self.variant_text.tolist(), self.variant_count.tolist()
        ):
            out[self.ids[c]].variants[texts[t]] = count
        for c, n in zip(self.norm_cluster.tolist(), self.norm_text.tolist()):
            out[self.ids[c]].norms.add(self.norms[n])
        return out

    def state_tables(self, schema: pa.Schema, slice_clusters: int) -> Iterator[pa.Table]:
        """The stats state table (store/state.STATS_STATE) in parts of `slice_clusters` clusters, the
        variants and normalised texts of a cluster sorted as strings, as state.stats_table writes them."""
        text_rank = np.empty(len(self.texts), np.int64)
        text_rank[pc.array_sort_indices(self.texts).to_numpy()] = np.arange(len(self.texts))
        v_order = np.lexsort((text_rank[self.variant_text], self.variant_cluster))
        norm_rank = np.empty(len(self.norms), np.int64)
        norm_rank[sorted(range(len(self.norms)), key=self.norms.__getitem__)] = np.arange(len(self.norms))
        n_order = np.lexsort((norm_rank[self.norm_text], self.norm_cluster))
        v_spans, n_spans = self._spans(self.variant_cluster), self._spans(self.norm_cluster)
        variant_type, norms_type = schema.field("variants").type, schema.field("norms").type
        for lo in range(0, max(len(self), 1), slice_clusters):
            hi = min(len(self), lo + slice_clusters)
            vs = v_order[v_spans[lo] : v_spans[hi]]
            variants = pa.StructArray.from_arrays(
                [
                    self.texts.take(pa.array(self.variant_text[vs])).cast(pa.large_string()),
                    pa.array(self.variant_count[vs], pa.int64()),
                ],
                fields=list(variant_type.value_type),
            )
            ns = n_order[n_spans[lo] : n_spans[hi]]
            norms = pa.array([self.norms[i] for i in self.norm_text[ns].tolist()], pa.large_string())
            yield pa.Table.from_arrays(
                [
                    pa.array(self.ids[lo:hi], pa.string()),
                    pa.array(self.n_pages[lo:hi], pa.int32()),
                    pa.array(self.dateline[lo:hi], pa.bool_()),
                    pa.array(self.tag_paths[lo:hi], pa.string()),
                    pa.ListArray.from_arrays(
                        pa.array(v_spans[lo : hi + 1] - v_spans[lo], pa.int32()), variants, type=variant_type
                    ),
                    pa.ListArray.from_arrays(
                        pa.array(n_spans[lo : hi + 1] - n_spans[lo], pa.int32()), norms, type=norms_type
                    ),
                    pa.array(self.keys[lo:hi], pa.large_string()),
                ],
                schema=schema,
            )


@dataclass
class ClusterRows:
    """Every block row's cluster, and the clusters' stats."""

    row_cluster: np.ndarray  # int32 per block row: index into table.ids
    table: ClusterTable

    @property
    def names(self) -> list[str]:
        return self.table.ids


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


def count_clusters(
    cols: SiteColumns,
    keys: dict[str, str],
    cfg: BoilerplateConfig,
    page_document: np.ndarray | None = None,
) -> ClusterRows:
    """Cluster every block as assign_clusters does (date lines and empty texts by their own text, the
    rest by their text's cluster key; per region when cfg.by_region) and count each cluster's
    distinct pages, text variants and normalised texts; a cluster's tag path and date-line flag are
    those of its first block in page order. Works through the rows ROW_STEP at a time.

    With `page_document` (each page's document, from copy_groups), a cluster counts the distinct
    documents it is on rather than pages: the copies of one article are one page for the rule."""
    norms = cols.norms()
    norm_ids: dict[str, int] = {}
    text_norm = np.array([norm_ids.setdefault(n, len(norm_ids)) for n in norms], np.int64)
    # a key can be a text that none of these blocks carries (appended pages joining an old cluster)
    text_key = np.array(
        [norm_ids.setdefault(keys[n], len(norm_ids)) if n in keys else -1 for n in norms], np.int64
    )
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
    document_pairs = []  # a document's copies can sit in different steps: counted once at the end
    variant_pairs, variant_counts = [], []
    for lo, hi in steps:
        c = np.searchsorted(uniq, cluster_keys(lo, hi))
        row_cluster[lo:hi] = c
        if page_document is None:
            n_pages += np.bincount(
                unique_sorted((c << 32) | cols.doc[lo:hi]) >> 32, minlength=len(uniq)
            )  # steps hold whole pages
        else:
            document_pairs.append(unique_sorted((c << 32) | page_document[cols.doc[lo:hi]]))
        pairs, counts = np.unique((c << 32) | cols.text[lo:hi], return_counts=True)
        variant_pairs.append(pairs)
        variant_counts.append(counts)
    if page_document is not None:
        n_pages = np.bincount(
            unique_sorted(np.concatenate(document_pairs or [np.empty(0, np.int64)])) >> 32,
            minlength=len(uniq),
        )
        del document_pairs
    pairs, inverse = np.unique(np.concatenate(variant_pairs or [np.empty(0, np.int64)]), return_inverse=True)
    counts = np.bincount(
        inverse.reshape(-1),
        weights=np.concatenate(variant_counts or [np.empty(0, np.int64)]),
        minlength=len(pairs),
    ).astype(np.int64)
    del variant_pairs, variant_counts, inverse
    variant_cluster, variant_text = pairs >> 32, pairs & 0xFFFFFFFF
    norm_pairs = unique_sorted((variant_cluster << 32) | text_norm[variant_text])
    del pairs

    key_mask, region_mask = (1 << _KEY_BITS) - 1, (1 << _REGION_BITS) - 1
    names = [
        cluster_id(
            "d" if u >> (_KEY_BITS + _REGION_BITS) else "c",
            cols.tag_paths[(u >> _KEY_BITS) & region_mask] if cfg.by_region else "",
            norm_names[u & key_mask],
        )
        for u in uniq.tolist()
    ]
    order = np.array(sorted(range(len(names)), key=names.__getitem__), np.int64)
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    v_cluster, n_cluster = rank[variant_cluster], rank[norm_pairs >> 32]
    v_sort, n_sort = np.argsort(v_cluster, kind="stable"), np.argsort(n_cluster, kind="stable")
    first_sorted = first[order]
    table = ClusterTable(
        ids=[names[i] for i in order.tolist()],
        n_pages=n_pages[order],
        dateline=cols.dateline[first_sorted],
        tag_paths=[cols.tag_paths[t] for t in cols.tag_path[first_sorted].tolist()],
        keys=[norm_names[u & key_mask] for u in uniq[order].tolist()],
        variant_cluster=v_cluster[v_sort],
        variant_text=variant_text[v_sort],
        variant_count=counts[v_sort],
        norm_cluster=n_cluster[n_sort],
        norm_text=(norm_pairs & 0xFFFFFFFF)[n_sort],
        texts=cols.texts,
        norms=norm_names,
    )
    return ClusterRows(rank.astype(np.int32)[row_cluster], table)


def text_words(cols: SiteColumns) -> np.ndarray:
    """int64 per distinct text: its number of word tokens."""
    return np.array([n.count(" ") + 1 if n else 0 for n in cols.norms()], np.int64)


def shared_rows(cols: SiteColumns, row_pages: np.ndarray, n_site_pages: int) -> np.ndarray:
    """bool per block row: text that a few pages share (on 2 pages up to half the site), not a date
    line. A document carried under several URLs is made of such text; the site's template is on more
    pages than half."""
    return (row_pages >= 2) & (row_pages * 2 <= n_site_pages) & ~cols.dateline


def copy_groups(
    cols: SiteColumns, counted: ClusterRows, n_site_pages: int, min_words: int
) -> np.ndarray | None:
    """Each page's document (the first page of its copies) when some pages are copies of one
    document, else None. Pages are copies when the text they share with few other pages is the same
    set of clusters, holds at least `min_words` words, and they have next to nothing of their own
    (at most 5 words or 5% of it: a differing date or link). Template-heavy short pages each have
    their own text, so they stay apart."""
    if n_site_pages < 2 or len(cols) == 0:
        return None
    row_pages = counted.table.n_pages[counted.row_cluster]
    words = text_words(cols)[cols.text]
    shared = shared_rows(cols, row_pages, n_site_pages)
    own = (row_pages == 1) & ~cols.dateline
    shared_words = np.bincount(cols.doc, weights=words * shared, minlength=n_site_pages)
    own_words = np.bincount(cols.doc, weights=words * own, minlength=n_site_pages)
    candidate = (shared_words >= min_words) & (own_words <= np.maximum(5, 0.05 * shared_words))
    if not candidate.any():
        return None
    rows = np.flatnonzero(shared & candidate[cols.doc])
    docs, starts = np.unique(cols.doc[rows], return_index=True)
    first_of: dict[tuple[int, ...], int] = {}
    page_document = np.arange(n_site_pages, dtype=np.int64)
    for doc, clusters in zip(docs.tolist(), np.split(counted.row_cluster[rows], starts[1:])):
        key = tuple(unique_sorted(clusters).tolist())
        page_document[doc] = first_of.setdefault(key, doc)  # pages in page order: the first page names it
    if len(first_of) == len(docs):
        return None
    return page_document
