"""MinHash signatures for many texts at once with numpy, bit-identical to datasketch.MinHash(num_perm,
seed, scheme="affine32", hashfunc=...) with the shingle hash named here (fnv1a_codepoints for block char
shingles, word_shingle_hash for document word shingles). Pure.

A per-text datasketch object costs ~140 µs; here the per-text Python work is only building the
shingle set and hashing it, then one vectorised permute+min over all shingles of all texts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from pipeline.config import MinHashConfig

if TYPE_CHECKING:
    from datasketch import MinHash

_CHUNK_SHINGLES = (
    1 << 14
)  # shingles per vectorised step: (128 x 16k) uint32 = 8 MiB (measured best of 1k-64k)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters (a, b) for the affine32 scheme, drawn as its
    `MinHash._init_permutations` draws them (tests compare the two). Not asked of datasketch
    itself: importing it pulls in scipy.integrate, 1 s for every process that builds a site."""
    if scheme != "affine32":
        raise ValueError(f"only the affine32 scheme is vectorised here, not {scheme!r}")
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd: a bijection
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


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
    return {text[i : i + k] for i in range(len(text) - k + 1)}


def word_shingles(tokens: list[str], k: int) -> set[str]:
    if len(tokens) <= k:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def min_hashes(hashes: np.ndarray, rows: np.ndarray, n: int, cfg: MinHashConfig) -> np.ndarray:
    """(n, num_perm) signatures from every shingle hash and the row it belongs to (rows ascending):
    per permutation, the minimum of (a * fmix32(h) + b) mod 2**32 over the row's shingles.
    Permutation-major steps (num_perm x 16k shingles): the row minima then reduce along contiguous
    memory, 5x faster than shingle-major steps."""
    a, b = permutations(cfg.num_perm, cfg.seed, cfg.scheme)
    out = np.full((cfg.num_perm, n), np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(hashes) == 0:
        return out.T.copy()
    mixed = fmix32(hashes)
    a_col, b_col = a[:, None], b[:, None]
    buf = np.empty((cfg.num_perm, min(_CHUNK_SHINGLES, len(mixed))), np.uint32)  # no temporaries per step
    for s in range(0, len(mixed), _CHUNK_SHINGLES):
        h, r = mixed[s : s + _CHUNK_SHINGLES], rows[s : s + _CHUNK_SHINGLES]
        permuted = buf[:, : len(h)]
        np.multiply(a_col, h[None, :], out=permuted)  # uint32 arithmetic wraps, as datasketch's does
        np.add(permuted, b_col, out=permuted)
        seg_starts = np.concatenate(([0], np.flatnonzero(r[1:] != r[:-1]) + 1))
        mins = np.minimum.reduceat(permuted, seg_starts, axis=1)
        seg_rows = r[seg_starts]
        out[:, seg_rows] = np.minimum(out[:, seg_rows], mins)  # a row split across chunks keeps its minimum
    return np.ascontiguousarray(out.T)


def to_datasketch(row: np.ndarray, cfg: MinHashConfig) -> MinHash:
    """A datasketch MinHash holding one signature row, e.g. to query a datasketch MinHashLSH."""
    from datasketch import MinHash

    return MinHash(num_perm=cfg.num_perm, seed=cfg.seed, scheme=cfg.scheme, hashvalues=row)


# -- block signatures: shingling and hashing vectorised over all texts at once --------------------------
_FNV_OFFSET, _FNV_PRIME = np.uint32(2166136261), np.uint32(16777619)


def fnv1a_codepoints(shingle: bytes) -> int:
    """The block shingle hash, one shingle at a time (for datasketch.MinHash(hashfunc=...)): 32-bit
    FNV-1a over the shingle's Unicode code points. block_signatures computes the same in bulk."""
    h = int(_FNV_OFFSET)
    for ch in shingle.decode("utf-8"):
        h = ((h ^ ord(ch)) * int(_FNV_PRIME)) & 0xFFFFFFFF
    return h


_TEXT_CHUNK_CHARS = 1 << 18  # code points hashed and min-reduced per step: bounds the temporaries at a few MB


def _window_hashes(
    values: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    k: int,
    init: int,
    step: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """(hash, row) of every k-window of every sequence (sequence i is values[starts[i]:][:lengths[i]]);
    a sequence shorter than k is one window of all of it, an empty one has none. A window's hash is
    `step` folded over its values from `init`, computed as k shifted views over all values at once
    (windows crossing from one sequence into the next are computed and dropped)."""
    counts = np.where(lengths >= k, lengths - k + 1, (lengths > 0).astype(np.int64))
    rows = np.repeat(np.arange(len(lengths)), counts)
    n_win = max(len(values) - k + 1, 0)
    with np.errstate(over="ignore"):
        full = np.full(n_win, init, dtype=np.uint32)
        for j in range(k):
            full = step(full, values[j : j + n_win])
        long = lengths >= k
        first = np.repeat(starts[long], counts[long])  # window starts inside long sequences
        first += np.arange(len(first)) - np.repeat(np.cumsum(counts[long]) - counts[long], counts[long])
        is_long = np.repeat(long, counts)
        h = np.empty(len(rows), np.uint32)
        h[is_long] = full[first]
        short = np.flatnonzero((lengths > 0) & ~long)
        hs = np.full(len(short), init, dtype=np.uint32)
        for j in range(k - 1):
            take = lengths[short] > j
            hs[take] = step(hs[take], values[starts[short][take] + j])
        h[~is_long] = hs
    return h, rows


def _fnv_step(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """FNV-1a's step, in place on h."""
    np.bitwise_xor(h, v, out=h)
    return np.multiply(h, _FNV_PRIME, out=h)


def char_shingle_hashes(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(hash, row) for every distinct-position char k-gram of every text, in row order; a text shorter
    than k is one shingle (itself), an empty text has none. No Python work per shingle."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if len(texts) == 0 or lengths.sum() == 0:
        return np.empty(0, np.uint32), np.empty(0, np.int64)
    cp = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return _window_hashes(cp, starts, lengths, k, int(_FNV_OFFSET), _fnv_step)


def block_signatures(texts: list[str], k: int, cfg: MinHashConfig) -> np.ndarray:
    """(n, num_perm) signatures of char k-gram sets, equal to datasketch.MinHash(num_perm, seed,
    scheme="affine32", hashfunc=fnv1a_codepoints) fed the same shingles as UTF-8 bytes. Texts go
    through in chunks of ~256k characters, so memory stays flat for a site of any size."""
    out = np.empty((len(texts), cfg.num_perm), dtype=np.uint32)
    lo = 0
    while lo < len(texts):
        hi, chars = lo, 0
        while hi < len(texts) and (chars < _TEXT_CHUNK_CHARS or hi == lo):
            chars += len(texts[hi]) + 1
            hi += 1
        hashes, rows = char_shingle_hashes(texts[lo:hi], k)
        out[lo:hi] = min_hashes(hashes, rows, hi - lo, cfg)
        lo = hi
    return out


# -- document signatures: word shingles hashed from per-token hashes --------------------------------------
_WORD_MUL = 0x9E3779B1  # a word shingle's hash is the polynomial of its tokens' xxh32 in this base, mod 2**32


def word_shingle_hash(shingle: bytes) -> int:
    """The document shingle hash, one shingle ("w1 w2 w3", UTF-8) at a time, for
    datasketch.MinHash(hashfunc=...): sum of xxh32(w_i) * _WORD_MUL**(n-1-i) mod 2**32.
    word_signatures computes the same in bulk, hashing each distinct token once."""
    h = 0
    for token in shingle.decode("utf-8").split(" "):
        h = (h * _WORD_MUL + xxhash.xxh32_intdigest(token.encode("utf-8"))) & 0xFFFFFFFF
    return h


def _poly_step(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """word_shingle_hash's step, in place on h."""
    np.multiply(h, np.uint32(_WORD_MUL), out=h)
    return np.add(h, v, out=h)


def word_shingle_hashes(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(hash, row) of every k-word window of every text given as norm_tokens gives it (tokens joined
    by single spaces; fewer than k tokens make one shingle, an empty text none). Arrow splits and
    numbers the tokens, and each distinct token is hashed once (a Python step per token cost as
    much as the rest of a document's signature)."""
    strings = pa.array(texts, pa.large_string())
    tokens = pc.split_pattern(
        pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.large_string()), strings), " "
    )
    lengths = pc.list_value_length(tokens).fill_null(0).to_numpy().astype(np.int64)
    flat = pc.list_flatten(tokens)
    if len(flat) == 0:
        return np.empty(0, np.uint32), np.empty(0, np.int64)
    numbered = pc.dictionary_encode(flat)
    distinct = numbered.dictionary.to_pylist()
    token_hash = np.fromiter(
        (xxhash.xxh32_intdigest(t.encode("utf-8")) for t in distinct), dtype=np.uint32, count=len(distinct)
    )
    codes = numbered.indices.to_numpy(zero_copy_only=False)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return _window_hashes(token_hash[codes], starts, lengths, k, 0, _poly_step)


def word_signatures(texts: list[str], k: int, cfg: MinHashConfig) -> np.ndarray:
    """(n, num_perm) signatures of the word k-gram sets of texts in norm_tokens' form, equal to
    datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=word_shingle_hash) fed the same
    shingles (" "-joined, UTF-8)."""
    hashes, rows = word_shingle_hashes(texts, k)
    return min_hashes(hashes, rows, len(texts), cfg)
