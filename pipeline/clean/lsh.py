"""Banded LSH over a signature matrix + verification + connected components. Pure.

Same banding as datasketch.MinHashLSH, done for all rows at once: hash each band, group equal band
keys, check each candidate pair's estimated Jaccard, and join verified pairs into clusters.
"""

from __future__ import annotations

import numpy as np

from pipeline.clean.arrays import unique_sorted

_ALL_PAIRS_MAX = 64  # buckets up to this size compare all pairs; larger ones a star plus a chain
_VERIFY_CHUNK = 1 << 16  # candidate pairs compared per numpy step (bounds memory)


def _band_keys(sigs: np.ndarray, band: int, rows: int) -> np.ndarray:
    """One uint64 key per row for a band: a multiply-add hash of its `rows` values. A rare false
    collision only adds a candidate pair, which verification then drops. Column by column: no
    (n, rows) uint64 temporaries (160 MB per band on 750,000 texts)."""
    keys = np.zeros(sigs.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(rows):
            mult = np.uint64(0x9E3779B97F4A7C15 * (2 * k + 1) & 0xFFFFFFFFFFFFFFFF)
            keys += sigs[:, band * rows + k].astype(np.uint64) * mult
    return keys


def _groups_to_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """All pairs inside each bucket, vectorised per bucket size; big buckets get a star and a chain."""
    pairs: list[np.ndarray] = []
    for m in unique_sorted(sizes):
        sel = starts[sizes == m]
        members = order[sel[:, None] + np.arange(m)[None, :]]  # (buckets, m)
        if m <= _ALL_PAIRS_MAX:
            i, j = np.triu_indices(m, k=1)
            pairs.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
        else:
            star = np.stack(
                [np.repeat(members[:, :1], m - 1, axis=1).ravel(), members[:, 1:].ravel()], axis=1
            )
            chain = np.stack([members[:, :-1].ravel(), members[:, 1:].ravel()], axis=1)
            pairs.extend([star, chain])
    return pairs


def _band_codes(sigs: np.ndarray, band: int, rows: int) -> np.ndarray:
    """Sorted distinct codes i * n + j (int64) of the row pairs i<j whose band `band` is equal."""
    n = sigs.shape[0]
    keys = _band_keys(sigs, band, rows)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    del keys
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_keys)) + 1))
    del sorted_keys
    sizes = np.diff(np.concatenate((starts, [n])))
    multi = sizes >= 2
    if not multi.any():
        return np.empty(0, dtype=np.int64)
    pairs = np.concatenate(_groups_to_pairs(order, starts[multi], sizes[multi])).astype(np.int64)
    pairs.sort(axis=1)
    return unique_sorted(pairs[:, 0] * n + pairs[:, 1])  # one int64 code per pair: faster than unique(axis=0)


def _verified(sigs: np.ndarray, codes: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) int32 of the candidate pairs whose estimated Jaccard reaches the threshold, checked
    _VERIFY_CHUNK pairs at a time."""
    n = sigs.shape[0]
    keep = np.zeros(len(codes), dtype=bool)
    for s in range(0, len(codes), _VERIFY_CHUNK):
        c = codes[s : s + _VERIFY_CHUNK]
        keep[s : s + len(c)] = (sigs[c // n] == sigs[c % n]).mean(axis=1) >= threshold
    kept = codes[keep]
    return (kept // n).astype(np.int32), (kept % n).astype(np.int32)


def _distinct_rows(sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of one row per distinct signature, which distinct row each row is). Identical
    signatures are one node: a template text repeated on thousands of pages must not become
    thousands of candidate pairs in every band."""
    keys = np.zeros(sigs.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(sigs.shape[1]):  # column by column: no (n, num_perm) uint64 temporary
            keys = keys * np.uint64(0x100000001B3) + sigs[:, col].astype(np.uint64)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    same = np.empty(sigs.shape[0], dtype=bool)
    for s in range(0, sigs.shape[0], _VERIFY_CHUNK):
        rows = slice(s, s + _VERIFY_CHUNK)
        same[rows] = (sigs[rows] == sigs[first[inverse[rows]]]).all(axis=1)
    if not same.all():  # a 64-bit key collision between different signatures: keep those rows apart
        extra = np.flatnonzero(~same)
        first = np.concatenate((first, extra))
        inverse = inverse.copy()
        inverse[extra] = np.arange(len(first) - len(extra), len(first))
    return first, inverse


def join(roots: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Union-find over arrays: `roots` gives each node the smallest node of its component so far
    (roots[roots] == roots); joining the edges (i, j) hooks the larger root of every edge under the
    smaller, then every node is pointed at its new root, until all edges lie inside a component.
    Components carry over from band to band, so only new edges are joined (scipy's
    connected_components would take every edge again, and importing scipy costs a process 0.4 s)."""
    if len(i) == 0:  # most bands add no edge once the components are joined: no copy
        return roots
    roots = roots.copy()
    while True:
        ri, rj = roots[i], roots[j]
        apart = ri != rj
        if not apart.any():
            return roots
        ri, rj = ri[apart], rj[apart]
        low = np.minimum(ri, rj)
        np.minimum.at(roots, np.maximum(ri, rj), low)  # several hooks on one root: the smallest wins
        while True:  # pointer jumping until every node points at a root
            nxt = roots[roots]
            if np.array_equal(nxt, roots):
                break
            roots = nxt
        i, j = i[apart], j[apart]


def cluster(sigs: np.ndarray, bands: int, rows: int, threshold: float) -> np.ndarray:
    """Component label for each row (rows with no verified neighbour are their own component).
    Labels are numbered in order of each component's first row, so equal input gives equal labels."""
    n = sigs.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    reps, of_rep = _distinct_rows(sigs)
    m = len(reps)
    if m == n:  # every row distinct (the usual case for distinct texts): each is its own node, no copy
        distinct, of_rep = sigs, np.arange(n)
    else:
        distinct = sigs[reps]
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows={bands * rows} exceeds signature length {sigs.shape[1]}")
    # band by band: a candidate pair whose rows are already joined needs no check (the components
    # are those of all verified candidate pairs), and only one band's pairs are held at a time
    rep_labels = np.arange(m)
    for band in range(bands if m > 1 else 0):
        codes = _band_codes(distinct, band, rows)
        codes = codes[rep_labels[codes // m] != rep_labels[codes % m]]
        i, j = _verified(distinct, codes, threshold)
        del codes
        rep_labels = join(rep_labels, i, j)
    labels = rep_labels[of_rep]
    # renumber by first occurrence
    _, first, component = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[component]
