"""A site's model files in a run version: boilerplate clusters, cluster stats, text signatures, layout
model and the document MinHash index, written by a full build and by the append path alike, and read
back by the next run. Touches disk (the site's state files in the staged version)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.clean.layout import LayoutModel
from pipeline.clean.neardup import DocKey, doc_signatures
from pipeline.clean.site import SiteResult
from pipeline.records import BoilerplateCluster, Document
from pipeline.run.site_job import SiteJob
from pipeline.schemas import CLUSTERS_STATE, DOC_INDEX_STATE, STATS_STATE, TEXTS_STATE
from pipeline.store import state
from pipeline.store.state_layout import SiteFiles


def write_texts(
    job: SiteJob, files: SiteFiles, signatures: dict[str, np.ndarray], keys: dict[str, str]
) -> None:
    with job.version.state_writer(files.texts, TEXTS_STATE) as write:
        for part in state.texts_tables(signatures, keys, job.limits.state_slice):
            write(part)


def write_model(job: SiteJob, result: SiteResult, files: SiteFiles, stats: pa.Table) -> None:
    """The site's clusters, stats and layout model (its texts are written by write_texts)."""
    write_clusters_and_stats(job, result.boilerplate, files, [stats])
    write_layout(job, result.layout, files)


def write_clusters_and_stats(
    job: SiteJob,
    boilerplate: list[BoilerplateCluster],
    files: SiteFiles,
    stats_parts: Iterable[pa.Table],
) -> None:
    """The site's boilerplate clusters (first seen kept from the last run) and its clusters' stats."""
    v = job.version
    first_seen = {}
    if prev := v.previous_path(files.clusters):
        first_seen = dict(
            zip(*pq.read_table(prev, columns=["cluster_id", "first_seen"]).to_pydict().values())
        )
    clusters = pa.Table.from_pylist(
        [
            {
                "cluster_id": c.cluster_id,
                "text": c.text,
                "tag_path": c.tag_path,
                "n_pages": c.n_pages,
                "first_seen": first_seen.get(c.cluster_id, job.now),
                "last_seen": job.now,
            }
            for c in sorted(boilerplate, key=lambda c: c.cluster_id)
        ],
        schema=CLUSTERS_STATE,
    )
    v.write_state(files.clusters, clusters)
    with v.state_writer(files.stats, STATS_STATE) as write:
        for part in stats_parts:
            write(part)


def write_layout(job: SiteJob, layout: LayoutModel | None, files: SiteFiles) -> None:
    job.version.write_state(files.layout, (layout or LayoutModel()).table())


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def write_doc_index(job: SiteJob, files: SiteFiles, index: dict[str, tuple[np.ndarray, str]]) -> None:
    """The site's document MinHash index: doc_id -> (signature, hash of the clean text it was made from)."""
    job.version.write_state(
        files.doc_index,
        state.signatures_table(
            {d: sig for d, (sig, _) in index.items()},
            DOC_INDEX_STATE,
            "doc_id",
            extra={"text_hash": {d: h for d, (_, h) in index.items()}},
        ),
    )


def read_doc_index(path: Path | None) -> dict[str, tuple[np.ndarray, str]]:
    if path is None:
        return {}
    return {d: (sig, extra["text_hash"]) for d, (sig, extra) in state.read_signatures(path, "doc_id").items()}


class DocIndexer:
    """The site's document MinHash index, built chunk by chunk: a page whose clean text is as last
    time keeps its signature, the others are signed."""

    def __init__(self, job: SiteJob, files: SiteFiles):
        self.job, self.files = job, files
        self.prev = read_doc_index(job.version.previous_path(files.doc_index) if job.model_ok else None)
        self.index: dict[str, tuple[np.ndarray, str]] = {}
        self.keys: list[DocKey] = []

    def add(self, documents: list[Document]) -> None:
        docs = [d for d in documents if d.text.strip()]
        hashes = {d.doc_id: text_hash(d.text) for d in docs}
        todo = [d for d in docs if d.doc_id not in self.prev or self.prev[d.doc_id][1] != hashes[d.doc_id]]
        fresh = dict(
            zip(
                (d.doc_id for d in todo),
                doc_signatures([d.text for d in todo], self.job.cfg.minhash, self.job.cfg.dedup),
            )
        )
        for d in docs:
            self.index[d.doc_id] = (
                fresh[d.doc_id] if d.doc_id in fresh else self.prev[d.doc_id][0],
                hashes[d.doc_id],
            )
            self.keys.append(DocKey(d.doc_id, d.published, d.url, d.source))

    def finish(self) -> tuple[list[DocKey], list[np.ndarray]]:
        write_doc_index(self.job, self.files, self.index)
        return self.keys, [self.index[k.doc_id][0] for k in self.keys]
