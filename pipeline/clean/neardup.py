"""Document-level near-duplicates: MinHash over word shingles of clean text, banded LSH, and one
canonical page per cluster (earliest published, then shortest URL or path). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipeline.clean import lsh
from pipeline.clean.main_content import norm_tokens
from pipeline.clean.minhash import word_signatures
from pipeline.config import DedupConfig, MinHashConfig
from pipeline.records import Document


@dataclass(frozen=True)
class DocKey:
    """What choosing a canonical page needs to know about a document."""

    doc_id: str
    published: dt.date | None
    url: str | None
    source: str


def _canonical_key(d: DocKey) -> tuple:
    return (d.published or dt.date.max, len(d.url or d.source), d.url or d.source, d.doc_id)


DOCS_PER_STEP = 1000  # documents shingled at once (bounds the temporaries)


def doc_signatures(texts: list[str], mh: MinHashConfig, cfg: DedupConfig) -> np.ndarray:
    """(n, num_perm) signatures of the texts' normalised word shingles, a thousand documents at a time."""
    out = np.empty((len(texts), mh.num_perm), dtype=np.uint32)
    for lo in range(0, len(texts), DOCS_PER_STEP):
        tokens = [norm_tokens(t) for t in texts[lo : lo + DOCS_PER_STEP]]
        out[lo : lo + len(tokens)] = word_signatures(tokens, cfg.shingle_words, mh)
    return out


def cluster_documents(keys: list[DocKey], sigs, cfg: DedupConfig) -> dict[str, tuple[str, str | None]]:
    """doc_id -> (dup_cluster, duplicate_of) for pages in clusters of two or more; pages are sorted
    by doc_id first so the answer does not depend on input order."""
    order = sorted(range(len(keys)), key=lambda i: keys[i].doc_id)
    if len(order) < 2:
        return {}
    labels = lsh.cluster(sigs[order], cfg.bands, cfg.rows, cfg.threshold)
    groups: dict[int, list[DocKey]] = {}
    for i, label in zip(order, labels):
        groups.setdefault(int(label), []).append(keys[i])
    out: dict[str, tuple[str, str | None]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        canonical = min(members, key=_canonical_key)
        for d in members:
            out[d.doc_id] = (canonical.doc_id, None if d.doc_id == canonical.doc_id else canonical.doc_id)
    return out


def mark_near_duplicates(docs: list[Document], mh: MinHashConfig, cfg: DedupConfig) -> int:
    """Set dup_cluster (the canonical doc_id) on every member of a cluster of two or more pages and
    duplicate_of on all but the canonical one. Returns the number of clusters."""
    candidates = [d for d in docs if d.text.strip()]
    keys = [DocKey(d.doc_id, d.published, d.url, d.source) for d in candidates]
    found = cluster_documents(keys, doc_signatures([d.text for d in candidates], mh, cfg), cfg)
    for d in docs:
        d.dup_cluster, d.duplicate_of = found.get(d.doc_id, (None, None))
    return len({c for c, _ in found.values()})
