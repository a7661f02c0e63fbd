"""Step 4, near-duplicates: document MinHash clusters over every site of the run. A site file whose
dup columns change is rewritten (a reused file is replaced, never written through its hard link).
Touches disk (the staged documents files)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.clean.neardup import cluster_documents
from pipeline.config import PipelineConfig
from pipeline.run.site_job import SiteBuilt
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import SiteFiles


@dataclass(frozen=True)
class NearDuplicates:
    clusters: int
    pages_by_site: dict[str, int] = field(default_factory=dict)  # duplicates (not canonical) per site


def near_duplicates(
    built: list[SiteBuilt], version: StagedVersion, cfg: PipelineConfig, run_id: str
) -> NearDuplicates:
    """Clusters over every site's documents; a row whose dup columns change is written by this run."""
    keys = [k for b in built for k in b.keys]
    sigs = [s for b in built for s in b.sigs]
    site_of = {k.doc_id: b.site for b in built for k in b.keys}
    matrix = np.stack(sigs) if sigs else np.empty((0, cfg.minhash.num_perm), np.uint32)
    found = cluster_documents(keys, matrix, cfg.dedup)
    for site in sorted(b.site for b in built):
        rel = SiteFiles.of(site).documents
        table = pq.read_table(version.staged(rel))
        ids = table.column("doc_id").to_pylist()
        cluster = [found.get(i, (None, None))[0] for i in ids]
        dup_of = [found.get(i, (None, None))[1] for i in ids]
        old = zip(table.column("dup_cluster").to_pylist(), table.column("duplicate_of").to_pylist())
        moved = [(c, d) != o for c, d, o in zip(cluster, dup_of, old)]
        if not any(moved):
            continue
        runs = [run_id if m else r for m, r in zip(moved, table.column("run_id").to_pylist())]
        for name, values in (("dup_cluster", cluster), ("duplicate_of", dup_of), ("run_id", runs)):
            table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, pa.string()))
        version.write("documents", Path(rel).name, table)
    duplicates = Counter(site_of[d] for d, (_, of) in found.items() if of is not None)
    return NearDuplicates(len({c for c, _ in found.values()}), dict(duplicates))
