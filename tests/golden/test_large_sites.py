"""Large sites in bounded memory: a folder parsed a chunk of pages at a time and a site built a chunk
at a time give exactly the rows, models and summary of the same site done in one piece, on a first
run and on re-runs that parse pages again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import run_incremental
from pipeline.config import ResourceLimits
from tests.support import RUN_COLUMNS, assert_same_as_fresh, layout_cfg, write_files, write_layout_site

MODEL_FILES = ("clusters", "texts", "stats", "layout")


def rows(out: Path, dataset: str) -> pd.DataFrame:
    """A dataset's rows in the order they were written (row order is part of the output)."""
    return pd.read_parquet(out / dataset).drop(columns=RUN_COLUMNS, errors="ignore")


def model(out: Path, name: str) -> pd.DataFrame:
    [path] = (out / "_state" / "models").glob(f"gazette.{name}.parquet")
    return pq.read_table(path).to_pandas().drop(columns=["first_seen", "last_seen"], errors="ignore")


@pytest.mark.parametrize("workers, held", [(0, 0), (2, 0), (0, ResourceLimits.held_block_bytes)])
def test_site_built_in_chunks_equals_site_built_whole(tmp_path, workers, held):
    """workers 2: parsed on worker processes, the one site built here; held 0: every parse chunk's
    block rows go to a part file, else they stay in memory."""
    raw = tmp_path / "raw"
    write_layout_site(raw, range(45))
    write_files(raw, {"gazette/notes.txt": "Opening hours\n\nThe office opens at nine.\n"})
    cfg = layout_cfg(4)  # layout model on: sampled and unsampled pages
    whole = run_incremental(raw, tmp_path / "whole", cfg)
    # 7 site chunks, the last one short; parse chunks of 6
    limits = ResourceLimits(site_chunk_pages=7, parse_chunk=6, held_block_bytes=held)
    chunked = run_incremental(raw, tmp_path / "chunked", cfg, workers=workers, limits=limits)
    assert chunked["sites"] == whole["sites"] and whole["sites"][0]["pages"] == 46
    assert whole["sites"][0]["boilerplate_clusters"] > 0
    for dataset in ("documents", "blocks", "boilerplate"):
        a, b = rows(tmp_path / "whole", dataset), rows(tmp_path / "chunked", dataset)
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b)
    for name in MODEL_FILES:
        pd.testing.assert_frame_equal(model(tmp_path / "whole", name), model(tmp_path / "chunked", name))
    doc_index = [
        pq.read_table(tmp_path / run / "_state" / "doc_index" / "gazette.parquet")
        for run in ("whole", "chunked")
    ]
    assert doc_index[0].num_rows == 46 and doc_index[0].equals(doc_index[1])  # the document signatures too
    docs = rows(tmp_path / "chunked", "documents")
    assert list(docs["source"]) == sorted(docs["source"])  # page order across chunks
    assert not docs["text"].str.contains("All rights reserved").any()


@pytest.mark.parametrize(
    "held", [0, ResourceLimits.held_block_bytes]
)  # parsed block rows on disk or in memory
def test_reruns_in_small_chunks_equal_fresh_runs(tmp_path, held):
    limits = ResourceLimits(site_chunk_pages=9, parse_chunk=5, held_block_bytes=held)
    raw, out, fresh = tmp_path / "raw", tmp_path / "out", tmp_path / "fresh"
    fresh.mkdir()
    cfg = layout_cfg(4)
    write_layout_site(raw, range(40))
    run_incremental(raw, out, cfg, limits=limits)
    write_layout_site(raw, range(40, 60))  # new pages: some sampled, some parsed twice
    assert run_incremental(raw, out, cfg, limits=limits)["parsed"] == 20
    assert_same_as_fresh(raw, out, fresh, cfg)
    for i in range(12, 60):  # unchanged pages enter the sample: parsed again
        (raw / "gazette" / f"page{i:04d}.html").unlink()
    assert run_incremental(raw, out, cfg, limits=limits)["parsed_again"] > 0
    assert_same_as_fresh(raw, out, fresh, cfg)
