"""The layout sample: on a large site trafilatura runs on a hash-chosen sample of pages and the layout
model learned from it decides the others, with the same clean text; re-runs equal fresh runs when the
sample grows, shrinks, or takes in pages that were never extracted."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import run_incremental
from pipeline.acquire.sample import in_sample, rate_shift
from pipeline.config import LoadConfig, PipelineConfig, ResourceLimits
from tests.support import (
    article_page,
    assert_same_as_fresh,
    assert_same_tables,
    layout_cfg,
    write_files,
    write_layout_site,
)


def extractors(out: Path) -> pd.Series:
    return (
        pq.read_table(out / "_state" / "parsed" / "gazette.pages.parquet")
        .to_pandas()["extractor"]
        .value_counts()
    )


def test_sample_rule():
    assert rate_shift(127, 32) == 0 and rate_shift(128, 32) == 1 and rate_shift(1000, 32) == 3
    assert all(in_sample(f"{h:08x}", 100, 32) for h in range(0, 2**32, 2**28))  # small groups: every page
    hashes = [f"{random.Random(k).getrandbits(128):032x}" for k in range(20_000)]
    for n in (128, 1000, 20_000):
        sampled = sum(in_sample(h, n, 32) for h in hashes[:n])
        assert 40 <= sampled <= 160, (n, sampled)  # 64-128 expected, hash noise allowed
    assert rate_shift(10**6, 0) == 0


def test_large_site_extracts_a_sample_and_keeps_the_same_text(tmp_path):
    raw = tmp_path / "raw"
    truth = write_layout_site(raw, range(40))
    out = tmp_path / "out"
    run_incremental(raw, out, layout_cfg(4))
    kinds = extractors(out)
    assert 4 <= kinds.get("trafilatura", 0) <= 20 and kinds.get("segmented", 0) >= 20, kinds
    docs = pd.read_parquet(out / "documents").set_index("source")
    for i, (paras, related) in truth.items():
        text = docs.loc[f"gazette/page{i:04d}.html", "text"]
        assert all(p in text for p in paras), i
        assert not any(r in text for r in related), (i, text)
        assert "All rights reserved" not in text and "About the Gazette" not in text
    every = tmp_path / "every"
    run_incremental(raw, every, layout_cfg(0))
    assert extractors(every).to_dict() == {"trafilatura": 40}
    all_docs = pd.read_parquet(every / "documents").set_index("source")
    pd.testing.assert_series_equal(docs["text"].sort_index(), all_docs["text"].sort_index())
    pd.testing.assert_series_equal(docs["title"].sort_index(), all_docs["title"].sort_index())


def test_reruns_equal_fresh_runs_as_the_sample_grows_and_shrinks(layout_site_raw, tmp_path):
    raw = layout_site_raw
    out = tmp_path / "out"
    runs = tmp_path / "fresh"
    runs.mkdir()
    run_incremental(raw, out, layout_cfg(4))

    write_layout_site(raw, range(40, 90))  # 90 pages: the sampling rate halves, old pages leave the sample
    grown = run_incremental(raw, out, layout_cfg(4))
    assert grown["parsed"] == 50
    assert_same_as_fresh(raw, out, runs, layout_cfg(4))

    for i in range(12, 90):  # 12 pages: every page is sampled, unchanged ones parsed again
        (raw / "gazette" / f"page{i:04d}.html").unlink()
    shrunk = run_incremental(raw, out, layout_cfg(4))
    assert shrunk["pages_new"] == 0 and shrunk["pages_changed"] == 0 and shrunk["parsed"] > 0
    assert extractors(out).to_dict() == {"trafilatura": 12}
    assert_same_as_fresh(raw, out, runs, layout_cfg(4))


@pytest.mark.parametrize(
    "held", [0, ResourceLimits.held_block_bytes]
)  # parsed block rows on disk or in memory
def test_a_folder_of_many_small_sites_extracts_every_page(tmp_path, held):
    """Plain files whose site comes from their canonical URL (host-based sites): the folder is large,
    each site is not, so after parsing every page turns out to be in its site's sample and is extracted (their first
    rows are dropped from what was parsed)."""
    limits = ResourceLimits(held_block_bytes=held)
    cfg = PipelineConfig(load=LoadConfig(sites_by_host=True), extract=layout_cfg(4).extract)
    raw = tmp_path / "raw"
    for i in range(40):
        html, _, _ = article_page(i)
        html = html.replace(
            "<head>", f'<head><link rel="canonical" href="https://host{i // 2}.example/story/{i}">'
        )
        write_files(raw, {f"mixed/page{i:04d}.html": html})
    out = tmp_path / "out"
    first = run_incremental(raw, out, cfg, limits=limits)
    assert (
        first["parsed"] == 40 and first["parsed_again"] > 0
    )  # segmented first, extracted once its site was known
    state = pq.read_table(out / "_state" / "parsed" / "mixed.pages.parquet").to_pandas()
    assert state["site"].nunique() == 20
    assert state["extractor"].eq("trafilatura").all() and state["in_sample"].all()
    docs = pd.read_parquet(out / "documents")
    assert not docs["text"].str.contains("Read next:").any()
    runs = tmp_path / "fresh"
    runs.mkdir()
    (raw / "mixed" / "page0000.html").unlink()
    run_incremental(raw, out, cfg, limits=limits)
    fresh = runs / "a"
    run_incremental(raw, fresh, cfg)
    assert_same_tables(out, fresh)


def test_a_new_sampled_page_of_the_same_layout_is_appended(layout_site_raw, tmp_path):
    from pipeline.acquire.load import content_hash

    raw = layout_site_raw
    out = tmp_path / "out"
    run_incremental(raw, out, layout_cfg(4))
    new = next(i for i in range(100, 400) if in_sample(content_hash(article_page(i)[0].encode()), 41, 4))
    write_layout_site(raw, range(new, new + 1))
    summary = run_incremental(raw, out, layout_cfg(4))
    assert summary["parsed"] == 1 and summary["sites_appended"] == ["gazette"], summary
    assert extractors(out)["trafilatura"] == extractors(out).sum() - extractors(out)["segmented"]
    runs = tmp_path / "fresh"
    runs.mkdir()
    assert_same_as_fresh(raw, out, runs, layout_cfg(4))


def test_layout_votes_from_state_columns_equal_votes_from_page_objects(layout_site_raw, tmp_path):
    """The site build sums the teaching pages' votes from the state columns; the append path counts
    them from page objects. Both must give the same votes."""
    from pipeline.clean.layout import LayoutModel, path_counts, teaches
    from pipeline.store.state import SitePages

    out = tmp_path / "out"
    run_incremental(layout_site_raw, out, layout_cfg(4))
    stem = out / "_state" / "parsed" / "gazette"
    pages = SitePages([(Path(f"{stem}.pages.parquet"), Path(f"{stem}.blocks.parquet"))], "gazette", 7)
    teaching = [p for chunk in pages.chunks() for p in chunk if teaches(p)]
    assert 0 < len(teaching) < 40
    assert pages.teaching_counts() == path_counts(teaching)
    by_page, by_columns = LayoutModel(), LayoutModel()
    for p in teaching:
        by_page.add(p)
    by_columns.add_counts(pages.teaching_counts())
    assert by_page.table().equals(by_columns.table()) and by_columns.decisions()


def test_empty_pages_of_a_site_do_not_send_its_pages_through_the_extractor_twice(tmp_path):
    """Redirect stubs count in the site's size as they did in its sample group's before parsing, so
    each page keeps the sample flag it was parsed with."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    cfg = layout_cfg(4)
    write_layout_site(raw, range(40))
    stub = (
        '<html><head><meta http-equiv="refresh" content="0; url=/page{:04d}.html"></head><body></body></html>'
    )
    write_files(raw, {f"gazette/alias{i:04d}.html": stub.format(i) for i in range(24)})
    summary = run_incremental(raw, out, cfg)
    assert summary["skipped_by_reason"] == {"no_text": 24}
    assert summary["parsed"] == 64 and summary["parsed_again"] == 0
    state = pq.read_table(out / "_state" / "parsed" / "gazette.pages.parquet").to_pandas()
    ok = state[state["skip_reason"].isna()]
    assert ok["in_sample"].sum() == (ok["extractor"] == "trafilatura").sum() > 0
