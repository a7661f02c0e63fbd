"""Parsing on worker processes: same tables as in-process, and a page over the time limit is skipped
with reason `timeout` while the run completes."""
from __future__ import annotations

import pandas as pd

from pipeline.config import ExtractConfig, PipelineConfig
from pipeline.incremental import run_incremental
from tests.conftest import write_files
from tests.golden.test_html_site import gazette
from tests.golden.test_incremental import tables


def test_worker_processes_give_the_same_tables(naht_raw, tmp_path):
    write_files(naht_raw, gazette())
    run_incremental(naht_raw, tmp_path / "serial", workers=0)
    run_incremental(naht_raw, tmp_path / "parallel", workers=2)
    for name, df in tables(tmp_path / "serial").items():
        pd.testing.assert_frame_equal(df, tables(tmp_path / "parallel")[name], obj=name)


def test_a_page_over_the_time_limit_is_skipped_and_the_run_completes(naht_raw, tmp_path):
    slow = "<html><body>" + "".join(f"<div><p>Paragraph {i} with some words in it.</p></div>" for i in range(60000))
    normal = "<html><body><p>A page of the same batch that parses in a moment, {}.</p></body></html>"
    write_files(naht_raw, {"slow/a.html": normal.format("a"), "slow/huge.html": slow + "</body></html>",
                           "slow/z.html": normal.format("z")})  # one task: the batch misses its deadline
    cfg = PipelineConfig(extract=ExtractConfig(page_timeout=0.5))
    summary = run_incremental(naht_raw, tmp_path / "out", cfg, workers=2)
    skipped = pd.read_parquet(tmp_path / "out" / "skipped")
    assert skipped.to_dict("records") == [{"site": "slow", "source": "slow/huge.html", "reason": "timeout",
                                           "detail": "parsing took more than 0.5 s"}]
    assert summary["pages"] == 7 and summary["skipped_by_reason"] == {"timeout": 1}
    docs = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(docs[docs.site == "slow"].source) == ["slow/a.html", "slow/z.html"]
