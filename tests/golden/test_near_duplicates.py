"""Document-level near-duplicates across sites: one cluster, the earliest published page canonical."""

from __future__ import annotations

import pandas as pd

from pipeline import run_incremental
from tests.support import PROMO, assert_same_as_fresh, gazette, run_and_read, syndicated_sites, write_files


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


def _gazette_with_copies() -> dict[str, str | bytes]:
    """The gazette site with story 1 also carried under two more URLs (an AMP and a print copy)."""
    files = gazette()
    files["gazette/amp/story-1.html"] = files["gazette/story-1.html"]
    files["gazette/print/story-1.html"] = files["gazette/story-1.html"]
    return files


def test_an_article_under_several_urls_keeps_its_text_and_is_marked_a_duplicate(tmp_path):
    raw = write_files(tmp_path / "raw", _gazette_with_copies())
    summary, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].set_index("source")
    copies = ["gazette/story-1.html", "gazette/amp/story-1.html", "gazette/print/story-1.html"]
    for src in copies:
        text = docs.loc[src, "text"]
        assert "Story 1:" in text and "junction begins" in text and "item 1 said" in text, src
        for template in (PROMO, "Contact us", "All rights reserved", "Most read"):
            assert template not in text, (src, template)  # on every document: still the template
    assert docs.loc[copies, "dup_cluster"].nunique() == 1 and docs.loc[copies, "dup_cluster"].notna().all()
    assert docs.duplicate_of.notna().sum() == 2
    others = docs.drop(index=copies)
    assert others.dup_cluster.isna().all()
    assert [s["copies"] for s in summary["sites"] if s["site"] == "gazette"] == [2]
    blocks = ds["blocks"]
    story = blocks[blocks.text.str.startswith("Story 1:")]
    assert len(story) == 3 and not story.is_boilerplate.any()


def test_copies_added_later_give_what_a_fresh_run_gives(tmp_path):
    files = _gazette_with_copies()
    first = {k: v for k, v in files.items() if "/amp/" not in k and "/print/" not in k}
    raw = write_files(tmp_path / "raw", first)
    out = tmp_path / "out"
    run_incremental(raw, out)
    write_files(raw, {k: v for k, v in files.items() if k not in first})
    run_incremental(raw, out)
    runs = tmp_path / "runs"
    runs.mkdir()
    assert_same_as_fresh(raw, out, runs)
    docs = pd.read_parquet(out / "documents").set_index("source")
    assert "Story 1:" in docs.loc["gazette/print/story-1.html", "text"]
