"""Records -> Arrow tables with the explicit output schemas, and the per-site summary counted on
them. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import PIPELINE_VERSION
from pipeline.records import Block, BoilerplateCluster, Document, DocumentMeta, SiteSummary, Skipped
from pipeline.schemas import BLOCKS_SCHEMA, BOILERPLATE_SCHEMA, DOCUMENTS_SCHEMA, SKIPPED_SCHEMA

_META_COLUMNS = [f.name for f in fields(DocumentMeta)]


def documents_table(docs: list[Document], processed_at: dt.datetime, run_id: str) -> pa.Table:
    cols = {
        name: [getattr(d.meta, name) if name in _META_COLUMNS else getattr(d, name) for d in docs]
        for name in DOCUMENTS_SCHEMA.names
        if name not in ("processed_at", "pipeline_version", "run_id")
    }
    cols["processed_at"] = [processed_at] * len(docs)
    cols["run_id"] = [run_id] * len(docs)
    cols["pipeline_version"] = [PIPELINE_VERSION] * len(docs)
    return pa.Table.from_pydict(cols, schema=DOCUMENTS_SCHEMA)


def blocks_table(site: str, rows: list[tuple[str, Block]]) -> pa.Table:
    """(doc_id, block) rows of one site, in document then position order."""
    return pa.Table.from_pydict(
        {
            "doc_id": [d for d, _ in rows],
            "site": [site] * len(rows),
            "position": [b.position for _, b in rows],
            "kind": [b.kind for _, b in rows],
            "tag_path": [b.tag_path for _, b in rows],
            "text": [b.text for _, b in rows],
            "in_main": [b.in_main for _, b in rows],
            "is_boilerplate": [b.is_boilerplate for _, b in rows],
            "cluster_id": [b.cluster_id for _, b in rows],
            "removed_by": [b.removed_by for _, b in rows],
        },
        schema=BLOCKS_SCHEMA,
    )


def boilerplate_table(site: str, clusters: list[BoilerplateCluster]) -> pa.Table:
    cl = sorted(clusters, key=lambda c: (-c.n_pages, c.cluster_id))
    return pa.Table.from_pydict(
        {
            "site": [site] * len(cl),
            "cluster_id": [c.cluster_id for c in cl],
            "text": [c.text for c in cl],
            "tag_path": [c.tag_path for c in cl],
            "n_pages": [c.n_pages for c in cl],
            "share_of_pages": [c.share_of_pages for c in cl],
            "n_variants": [c.n_variants for c in cl],
        },
        schema=BOILERPLATE_SCHEMA,
    )


def skipped_table(skipped: list[Skipped]) -> pa.Table:
    rows = sorted(skipped, key=lambda s: (s.site, s.source))
    return pa.Table.from_pydict(
        {
            "site": [s.site for s in rows],
            "source": [s.source for s in rows],
            "reason": [s.reason for s in rows],
            "detail": [s.detail for s in rows],
        },
        schema=SKIPPED_SCHEMA,
    )


SUMMED = (
    "pages",
    "blocks",
    "boilerplate_blocks",
    "all_chars",
    "bp_chars",
    "with_title",
    "with_published",
    "with_updated",
)


def summary_counts(docs: pa.Table, blocks: pa.Table) -> dict[str, int]:
    """A site's summary counts over (part of) its documents and blocks tables; parts add up."""
    chars = pc.utf8_length(blocks["text"])
    return {
        "pages": docs.num_rows,
        "blocks": pc.sum(docs["n_blocks"]).as_py() or 0,
        "boilerplate_blocks": pc.sum(docs["n_boilerplate_blocks"]).as_py() or 0,
        "all_chars": pc.sum(chars).as_py() or 0,
        "bp_chars": pc.sum(pc.if_else(blocks["is_boilerplate"], chars, 0)).as_py() or 0,
        "with_title": docs.num_rows - docs["title"].null_count,
        "with_published": docs.num_rows - docs["published"].null_count,
        "with_updated": docs.num_rows - docs["updated"].null_count,
    }


def summary_from_counts(site: str, counts: dict[str, int], n_clusters: int) -> SiteSummary:
    """A site's summary from its summed summary_counts."""
    all_chars = counts.get("all_chars", 0)
    return SiteSummary(
        site=site,
        pages=counts.get("pages", 0),
        blocks=counts.get("blocks", 0),
        boilerplate_blocks=counts.get("boilerplate_blocks", 0),
        boilerplate_clusters=n_clusters,
        boilerplate_share=round(counts.get("bp_chars", 0) / all_chars, 4) if all_chars else 0.0,
        with_title=counts.get("with_title", 0),
        with_published=counts.get("with_published", 0),
        with_updated=counts.get("with_updated", 0),
    )


def tables_summary(site: str, docs: pa.Table, blocks: pa.Table, n_clusters: int) -> SiteSummary:
    """A site's summary from its whole tables."""
    return summary_from_counts(site, summary_counts(docs, blocks), n_clusters)
