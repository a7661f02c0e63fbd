"""Atomic publishing: a run that dies while writing leaves the previous dataset intact."""

import os

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import PipelineConfig, StoreConfig
from pipeline.store.parquet import RUNS_DIR, publish
from tests.support import run_and_read


def test_failed_write_leaves_previous_version_readable(naht_raw, tmp_path):
    out = tmp_path / "out"
    _, before = run_and_read(naht_raw, out)
    link_before = os.readlink(out / "documents")
    broken = {"documents": {"naht.parquet": pa.table({"doc_id": [1, 2]})}}  # cannot be cast to the schema
    with pytest.raises((pa.ArrowInvalid, KeyError, ValueError)):
        publish(out, broken, PipelineConfig())
    assert os.readlink(out / "documents") == link_before
    pd.testing.assert_frame_equal(pd.read_parquet(out / "documents"), before["documents"])
    # the half-written staging folder is cleaned by the next run, which then succeeds
    assert any(p.name.endswith(".tmp") for p in (out / RUNS_DIR).iterdir())
    run_and_read(naht_raw, out)
    assert not any(p.name.endswith(".tmp") for p in (out / RUNS_DIR).iterdir())
    assert len(pd.read_parquet(out / "documents")) == 5


def test_old_versions_are_pruned(naht_raw, tmp_path):
    """Without a grace period only the current version and the one it replaced stay."""
    out = tmp_path / "out"
    cfg = PipelineConfig(store=StoreConfig(keep_superseded_s=0))
    for _ in range(4):
        run_and_read(naht_raw, out, cfg)
    versions = [p for p in (out / RUNS_DIR).iterdir() if not p.is_symlink()]
    assert len(versions) == 2
    assert (out / RUNS_DIR / "current").resolve() == max(versions)


def test_site_names_cannot_escape_the_dataset_folder():
    from pipeline.store.state_layout import site_file_name

    assert site_file_name("../../etc").startswith("etc-") and site_file_name("../../etc") != site_file_name(
        "..etc"
    )
    assert site_file_name("www.example.org") == "www.example.org.parquet"
    assert "/" not in site_file_name("a/b\\c")
