"""The per-site boilerplate model: near-duplicate block clusters counted over distinct pages. Pure.

Count first, then strip: every page of the site is sketched and counted before any block is marked,
and unique texts are sorted before clustering, so the decision does not depend on file order.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from pipeline.clean import lsh
from pipeline.clean.main_content import norm_tokens
from pipeline.clean.minhash import block_signatures
from pipeline.config import BoilerplateConfig, MinHashConfig
from pipeline.records import Block, ParsedPage


_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class BoilerplateCluster:
    cluster_id: str
    text: str          # the most frequent variant, as it appears on pages
    tag_path: str
    n_pages: int
    share_of_pages: float
    n_variants: int


def _cluster_id(prefix: str, region: str, key: str) -> str:
    return prefix + hashlib.sha1(f"{region}\x00{key}".encode()).hexdigest()[:15]


def required_pages(n_site_pages: int, cfg: BoilerplateConfig) -> int:
    return max(cfg.min_pages, math.ceil(cfg.min_share * n_site_pages))


def text_signatures(unique: list[str], mh: MinHashConfig, cfg: BoilerplateConfig,
                    known: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Signature matrix for the sorted distinct texts, reusing signatures kept from an earlier run."""
    known = known or {}
    todo = [t for t in unique if t not in known]
    fresh = dict(zip(todo, block_signatures(todo, cfg.shingle_chars, mh)))
    if not unique:
        return np.empty((0, mh.num_perm), dtype=np.uint32)
    return np.stack([known[t] if t in known else fresh[t] for t in unique])


def text_clusters(norm_texts: list[str], mh: MinHashConfig, cfg: BoilerplateConfig,
                  known: dict[str, np.ndarray] | None = None) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Map each distinct normalised text to its cluster key (the smallest text of its cluster), and
    return every text's signature. Near-duplicates must also carry the same numbers: "Story 1" and
    "Story 2" are two pages' own headings, not one template line that drifted."""
    unique = sorted(set(norm_texts))
    sigs = text_signatures(unique, mh, cfg, known)
    labels = lsh.cluster(sigs, cfg.bands, cfg.rows, cfg.threshold)
    key_of_label: dict[tuple[int, tuple[str, ...]], str] = {}
    out: dict[str, str] = {}
    for text, label in zip(unique, labels):
        label_key = (int(label), tuple(_NUMBER.findall(text)))
        out[text] = key_of_label.setdefault(label_key, text)  # unique is sorted: first seen is the smallest
    return out, dict(zip(unique, sigs))


def learn_and_mark(pages: list[ParsedPage], mh: MinHashConfig, cfg: BoilerplateConfig,
                   known: dict[str, np.ndarray] | None = None) -> tuple[list[BoilerplateCluster], dict[str, np.ndarray]]:
    """Assign cluster_id to every block of the site's pages, set is_boilerplate, and return the
    boilerplate clusters and the signature of every distinct block text (`known` ones are reused).
    Date lines are clustered by exact text only: "First published <date>" lines differ only in their
    dates and must not merge into one boilerplate cluster; and an identical date line is template only
    when it is on more than half of the site's pages."""
    normalised: dict[str, str] = {}  # template blocks repeat on every page: normalise each text once
    entries: list[tuple[str, Block, str]] = []  # (doc_id, block, normalised text)
    for page in pages:
        for b in page.blocks:
            n = normalised.get(b.text)
            if n is None:
                n = normalised[b.text] = norm_tokens(b.text)
            entries.append((page.page.doc_id, b, n))
    keys, sigs = text_clusters([n for _, b, n in entries if not b.is_dateline and n], mh, cfg, known)

    ids: dict[tuple[str, str, str], str] = {}
    members: dict[str, list[tuple[str, Block, str]]] = defaultdict(list)
    for doc_id, b, n in entries:
        region = b.tag_path if cfg.by_region else ""
        key = ("d", region, n) if b.is_dateline or not n else ("c", region, keys[n])
        cid = ids.get(key)
        if cid is None:
            cid = ids[key] = _cluster_id(*key)
        b.cluster_id = cid
        members[cid].append((doc_id, b, n))

    n_pages = len(pages)
    need = required_pages(n_pages, cfg)
    out: list[BoilerplateCluster] = []
    for cid in sorted(members):
        rows = members[cid]
        docs = {d for d, _, _ in rows}
        if len(docs) < need:
            continue
        if cid.startswith("d") and rows[0][1].is_dateline and len(docs) * 2 <= n_pages:
            continue  # many pages of a news site share a publication day: only a majority is template
        for _, b, _ in rows:
            b.is_boilerplate = True
        variants = Counter(b.text for _, b, _ in rows)
        text = min(variants, key=lambda t: (-variants[t], t))
        out.append(BoilerplateCluster(
            cluster_id=cid, text=text, tag_path=rows[0][1].tag_path, n_pages=len(docs),
            share_of_pages=len(docs) / n_pages, n_variants=len({n for _, _, n in rows}),
        ))
    return out, sigs
