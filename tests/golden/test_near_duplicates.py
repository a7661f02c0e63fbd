"""Document-level near-duplicates across sites: one cluster, the earliest published page canonical."""

from __future__ import annotations

import pandas as pd

from tests.support import run_and_read, syndicated_sites, write_files


def test_copies_across_sites_form_one_cluster(tmp_path):
    raw = write_files(tmp_path / "raw", syndicated_sites())
    summary, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].set_index("source")
    canonical = docs.loc["gazette/copy.txt", "doc_id"]  # earliest published of the three copies
    for src in ("herald/a.txt", "gazette/copy.txt", "courier/syndicated.txt"):
        assert docs.loc[src, "dup_cluster"] == canonical
    assert pd.isna(docs.loc["gazette/copy.txt", "duplicate_of"])
    assert docs.loc["herald/a.txt", "duplicate_of"] == canonical
    assert docs.loc["courier/syndicated.txt", "duplicate_of"] == canonical
    others = docs.drop(index=["herald/a.txt", "gazette/copy.txt", "courier/syndicated.txt"])
    assert others.dup_cluster.isna().all() and others.duplicate_of.isna().all()
    assert docs.dup_cluster.nunique() == 1 and docs.duplicate_of.notna().sum() == 2
    assert summary["duplicate_clusters"] == 1 and summary["duplicate_pages"] == 2
