"""Finishing a re-learned site's pages one chunk at a time: main content by the layout model,
clusters and boilerplate marked, titles and dates, the output rows, and each page's document
signature. A chunk comes in as Arrow tables and goes out as tables and arrays. Finishing chunks on
the worker processes while the main process wrote was tried and measured slower (a 10,000-page
site's build 7.8 vs 7.1 s: the workers made every block string again, twice the CPU) and it raised
the 100k build's peak, so chunks are finished where the site is built. Pure (CPU only).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline.clean.layout import LayoutModel
from pipeline.clean.neardup import DocKey, doc_signatures
from pipeline.clean.site import SiteLearned, SiteResult, finish_chunk_pages
from pipeline.clean.titles import TitleAffixes
from pipeline.config import PipelineConfig
from pipeline.store.state import page_objects
from pipeline.store.tables import blocks_table, documents_table, summary_counts

PrevIndex = dict[str, tuple[np.ndarray, str]]  # doc_id -> (last run's document signature, hash of its text)


@dataclass
class FinishModel:
    """What finishing needs of a site's learned models: small (the stats and texts stay behind)."""
    site: str
    cfg: PipelineConfig
    now: dt.datetime
    layout: LayoutModel
    template: set[str]
    affixes: TitleAffixes

    @classmethod
    def of(cls, site: str, learned: SiteLearned, cfg: PipelineConfig, now: dt.datetime) -> FinishModel:
        return cls(site, cfg, now, learned.layout, learned.template, learned.affixes)


@dataclass
class ChunkToFinish:
    pages: pa.Table              # page state rows, in page order
    blocks: pa.Table             # their block state rows, in page and position order (strings may be dictionary-encoded)
    clusters: np.ndarray         # per block row: index into cluster_ids
    cluster_ids: list[str]       # the clusters these blocks are in (not the site's hundreds of thousands)
    prev_index: PrevIndex        # last run's signatures of these pages (unchanged texts are not signed again)

    @classmethod
    def of(cls, pages: pa.Table, blocks: pa.Table, row_cluster: np.ndarray, cluster_names: list[str],
           prev_index: PrevIndex) -> ChunkToFinish:
        """A chunk whose blocks are in the site's clusters `row_cluster` (indices into cluster_names)."""
        used, local = np.unique(row_cluster, return_inverse=True)
        return cls(pages, blocks, local.astype(np.int32), [cluster_names[i] for i in used.tolist()], prev_index)


@dataclass
class FinishedChunk:
    documents: pa.Table
    blocks: pa.Table
    counts: dict[str, int]       # store.tables.summary_counts: chunks add up
    applied: set[str]            # layout paths the layout model decided here (recorded in its state)
    doc_keys: list[DocKey]       # pages with clean text, with their signatures and text hashes
    doc_sigs: list[np.ndarray]
    text_hashes: list[str]


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def finish_chunk(model: FinishModel, chunk: ChunkToFinish) -> FinishedChunk:
    """One chunk's output rows and document signatures (a worker process may run it)."""
    pages = page_objects(chunk.pages.to_pylist(), chunk.blocks)
    layout = LayoutModel(model.layout.votes, set())  # its own record of the paths it decides
    documents = finish_chunk_pages(model.site, pages, layout, chunk.clusters, chunk.cluster_ids, model.template,
                                   model.affixes, model.cfg)
    part = SiteResult(site=model.site, n_pages=len(pages), documents=documents,
                      blocks=[(p.page.doc_id, b) for p in pages for b in p.blocks], boilerplate=[])
    docs_t, blocks_t = documents_table(part, model.now), blocks_table(part)
    with_text = [d for d in documents if d.text.strip()]
    hashes = [text_hash(d.text) for d in with_text]
    todo = [i for i, (d, h) in enumerate(zip(with_text, hashes))
            if d.doc_id not in chunk.prev_index or chunk.prev_index[d.doc_id][1] != h]
    fresh = dict(zip(todo, doc_signatures([with_text[i].text for i in todo], model.cfg.minhash, model.cfg.dedup)))
    sigs = [fresh[i] if i in fresh else chunk.prev_index[d.doc_id][0] for i, d in enumerate(with_text)]
    return FinishedChunk(docs_t, blocks_t, summary_counts(docs_t, blocks_t), layout.applied,
                         [DocKey(d.doc_id, d.published, d.url, d.source) for d in with_text], sigs, hashes)


def finish_here(model: FinishModel, chunks: Iterable[ChunkToFinish]) -> Iterator[FinishedChunk]:
    """Finish the chunks one after the other in this process (a ChunkFinisher)."""
    for chunk in chunks:
        yield finish_chunk(model, chunk)
