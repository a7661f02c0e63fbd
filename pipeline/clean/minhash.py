"""MinHash signatures for many texts at once with numpy, bit-identical to
datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=xxh32_intdigest). Pure.

A per-text datasketch object costs ~140 µs; here the per-text Python work is only building the
shingle set and hashing it, then one vectorised permute+min over all shingles of all texts.
"""
from __future__ import annotations

import functools

import numpy as np
import xxhash
from datasketch import MinHash

from pipeline.config import MinHashConfig

_CHUNK_SHINGLES = 1 << 15  # shingles per vectorised step: (32k x 128) uint32 = 16 MiB


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own permutation parameters (a, b), taken from a MinHash it builds."""
    if scheme != "affine32":
        raise ValueError(f"only the affine32 scheme is vectorised here, not {scheme!r}")
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before the affine permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def char_shingles(text: str, k: int) -> set[str]:
    """Character k-grams; a text shorter than k is one shingle, so short lines still get a sketch."""
    if len(text) <= k:
        return {text}
    return {text[i:i + k] for i in range(len(text) - k + 1)}


def word_shingles(tokens: list[str], k: int) -> set[str]:
    if len(tokens) <= k:
        return {" ".join(tokens)}
    return {" ".join(tokens[i:i + k]) for i in range(len(tokens) - k + 1)}


def hash_shingles(shingles: set[str]) -> np.ndarray:
    h = xxhash.xxh32_intdigest
    return np.fromiter((h(s.encode("utf-8")) for s in shingles), dtype=np.uint32, count=len(shingles))


def signatures(shingle_sets: list[set[str]], cfg: MinHashConfig) -> np.ndarray:
    """(n, num_perm) uint32 signature matrix, one row per shingle set (an empty set gives all-max)."""
    a, b = permutations(cfg.num_perm, cfg.seed, cfg.scheme)
    n = len(shingle_sets)
    out = np.full((n, cfg.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if n == 0:
        return out
    hashes = [hash_shingles(s) for s in shingle_sets]
    lengths = np.fromiter((len(h) for h in hashes), dtype=np.int64, count=n)
    start = 0
    while start < n:
        # take rows until the chunk holds enough shingles (at least one row per chunk)
        stop = start + 1
        total = lengths[start]
        while stop < n and total + lengths[stop] <= _CHUNK_SHINGLES:
            total += lengths[stop]
            stop += 1
        rows = [i for i in range(start, stop) if lengths[i] > 0]
        if rows:
            flat = fmix32(np.concatenate([hashes[i] for i in rows]))
            offsets = np.concatenate(([0], np.cumsum(lengths[rows])[:-1]))
            with np.errstate(over="ignore"):
                permuted = flat[:, None] * a[None, :] + b[None, :]
            out[rows] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out


def to_datasketch(row: np.ndarray, cfg: MinHashConfig) -> MinHash:
    """A datasketch MinHash holding one signature row, e.g. to query a datasketch MinHashLSH."""
    return MinHash(num_perm=cfg.num_perm, seed=cfg.seed, scheme=cfg.scheme, hashvalues=row)
