"""Document-level near-duplicates: MinHash over word shingles of clean text, banded LSH, and one
canonical page per cluster (earliest published, then shortest URL or path). Pure."""
from __future__ import annotations

import datetime as dt

from pipeline.clean import lsh
from pipeline.clean.main_content import norm_tokens
from pipeline.clean.minhash import signatures, word_shingles
from pipeline.config import DedupConfig, MinHashConfig
from pipeline.records import Document


def _canonical_key(d: Document) -> tuple:
    return (d.published or dt.date.max, len(d.url or d.source), d.url or d.source, d.doc_id)


def mark_near_duplicates(docs: list[Document], mh: MinHashConfig, cfg: DedupConfig) -> int:
    """Set dup_cluster (the canonical doc_id) on every member of a cluster of two or more pages and
    duplicate_of on all but the canonical one. Returns the number of clusters."""
    candidates = sorted((d for d in docs if d.text.strip()), key=lambda d: d.doc_id)
    for d in docs:
        d.dup_cluster = d.duplicate_of = None
    if len(candidates) < 2:
        return 0
    sigs = signatures([word_shingles(norm_tokens(d.text).split(), cfg.shingle_words) for d in candidates], mh)
    labels = lsh.cluster(sigs, cfg.bands, cfg.rows, cfg.threshold)
    groups: dict[int, list[Document]] = {}
    for d, label in zip(candidates, labels):
        groups.setdefault(int(label), []).append(d)
    n = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        n += 1
        canonical = min(members, key=_canonical_key)
        for d in members:
            d.dup_cluster = canonical.doc_id
            d.duplicate_of = None if d is canonical else canonical.doc_id
    return n
