"""Bulk signatures equal datasketch's; LSH clusters equal those of exact pairwise Jaccard."""

import itertools
import random

import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

from pipeline.clean import lsh
from pipeline.clean.minhash import block_signatures, char_shingles, min_hashes, permutations, to_datasketch
from pipeline.config import MinHashConfig

CFG = MinHashConfig()


def _xxh32_signatures(sets: list[set[str]]) -> np.ndarray:
    """The library's bulk min step over xxh32 shingle hashes (datasketch's usual hashfunc)."""
    hashes = [np.array([xxhash.xxh32_intdigest(x.encode()) for x in sorted(s)], np.uint32) for s in sets]
    rows = np.repeat(np.arange(len(sets)), [len(h) for h in hashes])
    return min_hashes(np.concatenate(hashes), rows, len(sets), CFG)


def _slow_way(shingles: set[str], hashfunc) -> np.ndarray:
    """datasketch's own MinHash over the shingles, one object per text."""
    m = MinHash(num_perm=CFG.num_perm, seed=CFG.seed, scheme=CFG.scheme, hashfunc=hashfunc)
    if shingles:
        m.update_batch([s.encode() for s in shingles])
    return m.hashvalues


def test_permutation_parameters_are_datasketchs():
    """We draw datasketch's (a, b) ourselves (importing datasketch costs a process 1 s)."""
    for num_perm, seed in [(128, 1), (64, 7), (256, 12345), (1, 0)]:
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        ours_a, ours_b = permutations(num_perm, seed, "affine32")
        assert ours_a.dtype == np.uint32 and ours_b.dtype == np.uint32
        assert np.array_equal(ours_a, a) and np.array_equal(ours_b, b), (num_perm, seed)


def test_vectorised_block_signatures_equal_datasketch():
    from pipeline.clean.minhash import fnv1a_codepoints

    rng = random.Random(3)
    words = ["naïve", "café", "日本語", "school", "pupil", "home", "a", "menu", "curly’s"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 30))) for _ in range(400)] + [
        "ab",
        "x" * 3000,
    ]
    sigs = block_signatures(texts, 4, CFG)
    for text, row in zip(texts, sigs):
        assert np.array_equal(_slow_way(char_shingles(text, 4) if text else set(), fnv1a_codepoints), row), (
            text
        )


def test_lsh_clusters_match_pairwise_jaccard():
    base = [
        "the quick brown fox jumps over the lazy dog near the river bank",
        "school leaders are committed to keeping children safe so they can learn",
        "subscribe to our newsletter for the best stories every single morning",
    ]
    texts = []
    for t in base:
        for k in range(4):  # small edits of each base text
            words = t.split()
            words[k] = words[k].upper()[::-1]
            texts.append(" ".join(words).lower())
    texts += ["completely unrelated words appear here", "another lonely sentence stands alone"]
    sets = [char_shingles(t, 4) for t in texts]
    labels = lsh.cluster(_xxh32_signatures(sets), bands=25, rows=5, threshold=0.5)
    # exact answer: connected components of pairs with true Jaccard >= 0.5
    parent = list(range(len(texts)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(texts)), 2):
        if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= 0.5:
            parent[find(i)] = find(j)
    exact = [find(i) for i in range(len(texts))]
    same = lambda lab: {(i, j) for i, j in itertools.combinations(range(len(texts)), 2) if lab[i] == lab[j]}  # noqa: E731
    assert same(list(labels)) == same(exact)
    assert len(set(labels)) == 5


def test_datasketch_lsh_agrees_on_candidates():
    texts = ["home menu search", "home menu search!", "a quite different line of text"]
    sigs = block_signatures(texts, 4, CFG)
    index = MinHashLSH(threshold=0.5, num_perm=CFG.num_perm)
    for i, row in enumerate(sigs):
        index.insert(str(i), to_datasketch(row, CFG))
    assert set(index.query(to_datasketch(sigs[0], CFG))) == {"0", "1"}


def test_block_signatures_do_not_depend_on_chunking(monkeypatch):
    from pipeline.clean import minhash

    rng = random.Random(5)
    texts = [
        " ".join(rng.choice(["menu", "home", "café", "a", "school"]) for _ in range(rng.randint(0, 60)))
        for _ in range(200)
    ]
    whole = minhash.block_signatures(texts, 4, CFG)
    monkeypatch.setattr(minhash, "_TEXT_CHUNK_CHARS", 100)  # many small steps, texts split across none
    assert np.array_equal(minhash.block_signatures(texts, 4, CFG), whole)


def test_vectorised_document_signatures_equal_datasketch():
    from pipeline.clean.minhash import word_shingle_hash, word_shingles, word_signatures

    rng = random.Random(4)
    words = ["naïve", "café", "日本語", "school", "pupil", "home", "a", "menu", "curly’s"]
    token_lists = [[rng.choice(words) for _ in range(rng.randint(0, 60))] for _ in range(300)] + [
        ["one"],
        ["two", "words"],
    ]
    sigs = word_signatures([" ".join(tokens) for tokens in token_lists], 3, CFG)
    for tokens, row in zip(token_lists, sigs):
        assert np.array_equal(
            _slow_way(word_shingles(tokens, 3) if tokens else set(), word_shingle_hash), row
        ), tokens
    a = MinHash(num_perm=CFG.num_perm, seed=CFG.seed, scheme=CFG.scheme, hashvalues=sigs[0])
    b = MinHash(num_perm=CFG.num_perm, seed=CFG.seed, scheme=CFG.scheme, hashvalues=sigs[1])
    assert 0.0 <= a.jaccard(b) <= 1.0


def _components_by_search(m: int, edges: list[tuple[int, int]]) -> list[int]:
    """Each node's smallest connected node, by plain graph search."""
    neighbours: dict[int, list[int]] = {k: [] for k in range(m)}
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    label = [-1] * m
    for start in range(m):
        if label[start] < 0:
            stack, label[start] = [start], start
            while stack:
                for nb in neighbours[stack.pop()]:
                    if label[nb] < 0:
                        label[nb] = start
                        stack.append(nb)
    return label


def test_join_finds_connected_components_in_steps():
    """lsh.join, given the edges in several batches (as the bands give them), ends with every node
    labelled by the smallest node of its component: the components of all the edges."""
    rng = random.Random(11)
    for m, n_edges in [(1, 0), (2, 1), (50, 20), (300, 250), (1000, 900), (200, 2000)]:
        edges = [(rng.randrange(m), rng.randrange(m)) for _ in range(n_edges)]
        roots = np.arange(m)
        for s in range(0, len(edges), max(1, len(edges) // 5)):
            batch = edges[s : s + max(1, len(edges) // 5)]
            roots = lsh.join(
                roots,
                np.array([a for a, _ in batch], dtype=np.int32),
                np.array([b for _, b in batch], dtype=np.int32),
            )
        assert roots.tolist() == _components_by_search(m, edges), (m, n_edges)
    chain = np.arange(999, dtype=np.int32)  # a long path joined in reverse order: many hooks deep
    assert (lsh.join(np.arange(1000), chain[::-1] + 1, chain[::-1]) == 0).all()
