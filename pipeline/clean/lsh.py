"""Banded LSH over a signature matrix + verification + connected components. Pure.

Same banding as datasketch.MinHashLSH, done for all rows at once: hash each band, group equal band
keys, check each candidate pair's estimated Jaccard, and join verified pairs into clusters.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_ALL_PAIRS_MAX = 64  # buckets up to this size compare all pairs; larger ones a star plus a chain


def _bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    pairs: list[np.ndarray] = []
    for s, m in zip(starts, sizes):
        members = order[s:s + m]
        if m <= _ALL_PAIRS_MAX:
            i, j = np.triu_indices(m, k=1)
            pairs.append(np.stack([members[i], members[j]], axis=1))
        else:
            star = np.stack([np.full(m - 1, members[0]), members[1:]], axis=1)
            chain = np.stack([members[:-1], members[1:]], axis=1)
            pairs.append(np.concatenate([star, chain]))
    return pairs


def candidate_pairs(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(k, 2) int64 array of row pairs i<j that share at least one band."""
    n = sigs.shape[0]
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows={bands * rows} exceeds signature length {sigs.shape[1]}")
    pairs: list[np.ndarray] = []
    for band in range(bands):
        chunk = np.ascontiguousarray(sigs[:, band * rows:(band + 1) * rows])
        keys = chunk.view(np.dtype((np.void, chunk.dtype.itemsize * rows))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        if counts.max() < 2:
            continue
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        multi = counts >= 2
        pairs.extend(_bucket_pairs(order, starts[multi], counts[multi]))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    allp = np.concatenate(pairs).astype(np.int64)
    allp.sort(axis=1)
    return np.unique(allp, axis=0)


def estimated_jaccard(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return np.empty(0)
    return (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)


def cluster(sigs: np.ndarray, bands: int, rows: int, threshold: float) -> np.ndarray:
    """Component label for each row (rows with no verified neighbour are their own component).
    Labels are numbered in order of each component's first row, so equal input gives equal labels."""
    n = sigs.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    pairs = candidate_pairs(sigs, bands, rows)
    keep = pairs[estimated_jaccard(sigs, pairs) >= threshold] if len(pairs) else pairs
    graph = coo_matrix((np.ones(len(keep)), (keep[:, 0], keep[:, 1])), shape=(n, n)) if len(keep) else \
        coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    # renumber by first occurrence
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]
