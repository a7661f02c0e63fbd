"""The per-site boilerplate model: near-duplicate block clusters counted over distinct pages. Pure.

Count first, then strip: every page of the site is sketched and counted before any block is marked,
and unique texts are sorted before clustering, so the decision does not depend on file order.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.clean import lsh
from pipeline.clean.minhash import block_signatures
from pipeline.config import BoilerplateConfig, MinHashConfig
from pipeline.records import Block, BoilerplateCluster

_NUMBER = re.compile(r"\d+")


def cluster_id(prefix: str, region: str, key: str) -> str:
    return prefix + hashlib.sha1(f"{region}\x00{key}".encode()).hexdigest()[:15]


def required_pages(n_site_pages: int, cfg: BoilerplateConfig) -> int:
    return max(cfg.min_pages, math.ceil(cfg.min_share * n_site_pages))


def text_signatures(
    unique: list[str], mh: MinHashConfig, cfg: BoilerplateConfig, known: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Signature matrix for the sorted distinct texts, reusing signatures kept from an earlier run."""
    known = known or {}
    if not known:
        return block_signatures(unique, cfg.shingle_chars, mh)
    out = np.empty((len(unique), mh.num_perm), dtype=np.uint32)  # filled in place: no per-row copies
    todo = []
    for i, t in enumerate(unique):
        if t in known:
            out[i] = known[t]
        else:
            todo.append(i)
    if todo:
        out[todo] = block_signatures([unique[i] for i in todo], cfg.shingle_chars, mh)
    return out


def text_clusters(
    norm_texts: list[str],
    mh: MinHashConfig,
    cfg: BoilerplateConfig,
    known: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Map each distinct normalised text to its cluster key (the smallest text of its cluster), and
    return every text's signature. Near-duplicates must also carry the same numbers: "Story 1" and
    "Story 2" are two pages' own headings, not one template line that drifted."""
    unique = sorted(set(norm_texts))
    sigs = text_signatures(unique, mh, cfg, known)
    labels = lsh.cluster(sigs, cfg.bands, cfg.rows, cfg.threshold)
    shared = np.bincount(labels)[labels] > 1 if len(labels) else np.zeros(0, bool)  # only these can merge
    key_of_label: dict[tuple[int, tuple[str, ...]], str] = {}
    out: dict[str, str] = {}
    for text, label, many in zip(unique, labels.tolist(), shared.tolist()):
        if not many:
            out[text] = text
            continue
        label_key = (label, tuple(_NUMBER.findall(text)))
        out[text] = key_of_label.setdefault(label_key, text)  # unique is sorted: first seen is the smallest
    return out, dict(zip(unique, sigs))


@dataclass(slots=True)
class ClusterStats:
    """What the model keeps per cluster of one region: enough to update it when pages are added.
    Slotted: a large site has one per distinct paragraph."""

    n_pages: int
    dateline: bool
    tag_path: str
    variants: Counter  # block text as on the page -> occurrences
    norms: set[str]  # distinct normalised texts (template drift)
    key: str = ""  # the cluster key its id was made from (region is tag_path)

    def merged(self, other: ClusterStats | None) -> ClusterStats:
        if other is None:
            return self
        return ClusterStats(
            self.n_pages + other.n_pages,
            self.dateline,
            self.tag_path,
            self.variants + other.variants,
            self.norms | other.norms,
            self.key,
        )


@dataclass
class SiteModel:
    """A site's boilerplate model: every cluster's stats, the text -> cluster key map, signatures."""

    stats: dict[str, ClusterStats]
    keys: dict[str, str]  # normalised text -> cluster key (smallest text of its cluster)
    signatures: dict[str, np.ndarray]  # normalised text -> MinHash signature
    n_pages: int


def template_mask(n_pages: Any, dateline: Any, n_site_pages: int, cfg: BoilerplateConfig) -> Any:
    """The template rule, for clusters as numpy columns (or one cluster as numpy scalars): on enough
    pages; a date line only when on more than half of them (many pages of a news site share a
    publication day)."""
    return (n_pages >= required_pages(n_site_pages, cfg)) & ~(dateline & (n_pages * 2 <= n_site_pages))


def is_template(st: ClusterStats, n_pages: int, cfg: BoilerplateConfig) -> bool:
    """template_mask for one cluster."""
    return bool(template_mask(np.int64(st.n_pages), np.bool_(st.dateline), n_pages, cfg))


def boilerplate_clusters(
    stats: dict[str, ClusterStats], n_pages: int, cfg: BoilerplateConfig
) -> list[BoilerplateCluster]:
    out = []
    for cid in sorted(stats):
        st = stats[cid]
        if is_template(st, n_pages, cfg):
            text = min(st.variants, key=lambda t: (-st.variants[t], t))
            out.append(
                BoilerplateCluster(
                    cluster_id=cid,
                    text=text,
                    tag_path=st.tag_path,
                    n_pages=st.n_pages,
                    share_of_pages=st.n_pages / n_pages,
                    n_variants=len(st.norms),
                )
            )
    return out


def mark(blocks: Iterable[Block], template: set[str]) -> None:
    for b in blocks:
        b.is_boilerplate = b.cluster_id in template
