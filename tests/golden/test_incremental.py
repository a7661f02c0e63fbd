"""Re-runs: only new and changed pages are parsed, only changed sites re-learned and rewritten, and
the result equals a from-scratch run, table for table."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from pipeline import run_incremental
from pipeline.config import BoilerplateConfig, PipelineConfig
from tests.support import (
    ARTICLE,
    BULLET,
    BUNDLED,
    INTRO,
    MEMBERS,
    OTHERS,
    assert_same_as_fresh,
    copy_naht,
    drift_site,
    garden_page,
    tables,
    write_files,
)

BANNER = "Join NAHT today: membership gives school leaders legal advice, training and a voice in Westminster."
NEW_PAGES = {
    "naht/005_new_banner.txt": (
        "Home Menu\n\nSafeguarding and support for pupils\n\nNAHT is campaigning to:\n\n"
        f"{BANNER}\n\nNew guidance on attendance published\n\n"
        "The Department has published new statutory guidance on school attendance, which applies from August.\n\n"
        "First published 2 September 2024"
    ),
    "naht/006_new_plain.txt": (
        "Home Menu\n\nSafeguarding and support for pupils\n\nNAHT is campaigning to:\n\n"
        "Mental health support teams expand\n\n"
        "Mental health support teams will reach more schools this year, the government has announced.\n\n"
        "First published 9 October 2024"
    ),
}


def with_banner(name: str) -> str:
    text = (BUNDLED / name).read_text(encoding="utf-8")
    return text.replace("NAHT is campaigning to:", f"{BANNER}\n\nNAHT is campaigning to:", 1)


def test_new_pages_parse_only_them_and_relearn_the_site(tmp_path):
    raw = copy_naht(tmp_path / "raw")
    for name in ("000_0a110b620bc841eb.txt", "001_7cbbc7433feaa475.txt"):  # the banner on two pages: content
        (raw / "naht" / name).write_text(with_banner(name), encoding="utf-8")
    out = tmp_path / "out"
    first = run_incremental(raw, out)
    assert first["parsed"] == 5 and first["pages_new"] == 5
    docs = pd.read_parquet(out / "documents")
    assert docs.text.str.contains("Join NAHT today").sum() == 2  # on two pages only: kept

    write_files(raw, NEW_PAGES)
    second = run_incremental(raw, out)
    assert second["parsed"] == 2 and second["pages_new"] == 2 and second["pages_unchanged"] == 5
    assert (
        second["sites_rebuilt"] == ["naht"] and second["sites_appended"] == []
    )  # the banner flips: re-learn
    docs = pd.read_parquet(out / "documents")
    assert len(docs) == 7
    assert not docs.text.str.contains(
        "Join NAHT today"
    ).any()  # now on 3 pages: stripped from the old ones too
    assert set(docs[docs.source.str.contains("/00[56]_")].published.astype(str)) == {
        "2024-09-02",
        "2024-10-09",
    }
    assert_same_as_fresh(raw, out, tmp_path)


def test_pages_that_change_nothing_for_old_pages_are_appended(tmp_path):
    raw = copy_naht(tmp_path / "raw")
    out = tmp_path / "out"
    run_incremental(raw, out)
    write_files(raw, {"naht/006_new_plain.txt": NEW_PAGES["naht/006_new_plain.txt"]})
    summary = run_incremental(raw, out)
    assert summary["parsed"] == 1 and summary["sites_appended"] == ["naht"]
    docs = pd.read_parquet(out / "documents")
    new = docs[docs.source.str.contains("006_")].iloc[0]
    assert new.title == "Mental health support teams expand" and str(new.published) == "2024-10-09"
    assert "NAHT is campaigning to" not in new.text and "Home Menu" not in new.text
    bp = pd.read_parquet(out / "boilerplate")
    assert bp[bp.text == "Home Menu"].n_pages.iloc[0] == 6
    assert_same_as_fresh(raw, out, tmp_path)


CROPS = [
    "carrots",
    "leeks",
    "onions",
    "beans",
    "peas",
    "kale",
    "chard",
    "beets",
    "radishes",
    "squash",
    "garlic",
]


def crop_page(i: int, banner: bool) -> str:
    crop = CROPS[i]
    body = (
        f"Our members grew {crop} on plot {i + 1} this season; the soil there was dug over twice and "
        f"fed with compost from the club's own heaps, so the {crop} came up early and evenly."
    )
    return garden_page(INTRO, BULLET, MEMBERS, f"Growing {crop}", body, BANNER if banner else "", day=i + 1)


def test_a_new_page_that_makes_old_blocks_template_finishes_only_those_pages_again(tmp_path):
    raw = write_files(
        tmp_path / "raw", {f"garden/p{i:02d}.txt": crop_page(i, i in (1, 2)) for i in range(10)}
    )
    out = tmp_path / "out"
    run_incremental(raw, out)
    docs = pd.read_parquet(out / "documents")
    assert docs.text.str.contains("Join NAHT today").sum() == 2  # on two pages of ten: content

    write_files(raw, {"garden/p10.txt": crop_page(10, True)})  # the banner's third page: template now
    summary = run_incremental(raw, out)
    assert summary["parsed"] == 1 and summary["sites_appended"] == ["garden"]
    docs = pd.read_parquet(out / "documents").set_index("source")
    assert not docs.text.str.contains("Join NAHT today").any()
    assert docs.loc["garden/p03.txt", "title"] == "Growing beans"
    blocks = pd.read_parquet(out / "blocks")
    banner = blocks[blocks.text == BANNER]
    assert len(banner) == 3 and banner.is_boilerplate.all() and (banner.removed_by == "boilerplate").all()
    changes = pd.read_parquet(out / "changes")
    latest = changes[changes.run_id == changes.run_id.max()].set_index("source").change.to_dict()
    assert latest == {
        "garden/p01.txt": "unchanged-but-rewritten",
        "garden/p02.txt": "unchanged-but-rewritten",
        "garden/p10.txt": "new",
    }
    assert_same_as_fresh(raw, out, tmp_path)


def test_a_new_page_with_a_drifted_template_line_is_stripped_as_a_fresh_run_strips_it(tmp_path):
    files = drift_site()
    raw = write_files(tmp_path / "raw", files)
    out = tmp_path / "out"
    run_incremental(raw, out)
    intro = INTRO.replace("all year round.", "all the year round, in every weather.")
    new_page = garden_page(intro, BULLET, MEMBERS, "Pruning roses", "Roses are pruned in late winter.", day=9)
    write_files(raw, {"garden/p9.txt": new_page})
    summary = run_incremental(raw, out)
    assert summary["parsed"] == 1
    docs = pd.read_parquet(out / "documents").set_index("source")
    assert "Welcome to the Riverside" not in docs.loc["garden/p9.txt", "text"]
    assert_same_as_fresh(raw, out, tmp_path)


def _file_fingerprints(folder: Path) -> dict[str, tuple[int, int, str]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.glob("*.parquet"))
    }


def test_change_and_delete_follow_and_untouched_sites_are_not_rewritten(tmp_path):
    raw = copy_naht(tmp_path / "raw")
    write_files(raw, drift_site())
    out = tmp_path / "out"
    run_incremental(raw, out)
    before = {d: _file_fingerprints(out / d) for d in ("documents", "blocks", "boilerplate")}

    changed = raw / "naht" / "003_27625e20f1f1eab0.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            "Skills for Jobs White Paper", "Skills for Jobs Green Paper"
        ),
        encoding="utf-8",
    )
    (raw / "naht" / "004_bd217d90d9587f98.txt").unlink()
    summary = run_incremental(raw, out)
    assert (summary["parsed"], summary["pages_changed"], summary["pages_removed"]) == (1, 1, 1)
    assert summary["sites_rebuilt"] == ["naht"]
    after = {d: _file_fingerprints(out / d) for d in ("documents", "blocks", "boilerplate")}
    for d in before:
        assert after[d]["garden.parquet"] == before[d]["garden.parquet"], d  # same inode, mtime and bytes
        assert after[d]["naht.parquet"] != before[d]["naht.parquet"], d
    docs = pd.read_parquet(out / "documents")
    assert not docs.source.str.contains("004_").any()
    assert docs[docs.source.str.contains("003_")].text.iloc[0].count("Green Paper") == 1
    assert_same_as_fresh(raw, out, tmp_path)


def test_nothing_changed_reparses_nothing(naht_raw, tmp_path):
    out = tmp_path / "out"
    run_incremental(naht_raw, out)
    again = run_incremental(naht_raw, out)
    assert (again["parsed"], again["pages_unchanged"], again["sites_rebuilt"]) == (0, 5, [])
    assert_same_as_fresh(naht_raw, out, tmp_path)


def test_parameter_change_relearns_without_reparsing(drifting_site_raw, tmp_path):
    raw = drifting_site_raw
    out = tmp_path / "out"
    run_incremental(raw, out)
    cfg = PipelineConfig(boilerplate=BoilerplateConfig(min_pages=2))
    summary = run_incremental(raw, out, cfg)
    assert summary["parsed"] == 0 and summary["sites_rebuilt"] == ["garden"]
    assert not pd.read_parquet(out / "documents").text.str.contains("tomato trial").any()
    fresh = tmp_path / "fresh"
    run_incremental(raw, fresh, cfg)
    pd.testing.assert_frame_equal(tables(out)["documents"], tables(fresh)["documents"])


def test_new_duplicate_in_another_site_updates_the_untouched_site(tmp_path):
    files = {
        "herald/a.txt": f"Trees\n\n{ARTICLE}\n\nFirst published 12 March 2024",
        "herald/b.txt": f"Bus\n\n{OTHERS[0]}\n\nFirst published 2 March 2024",
        "gazette/c.txt": f"Fair\n\n{OTHERS[1]}\n\nFirst published 3 March 2024",
    }
    raw = write_files(tmp_path / "raw", files)
    out = tmp_path / "out"
    run_incremental(raw, out)
    write_files(raw, {"gazette/copy.txt": f"Trees too\n\n{ARTICLE}\n\nFirst published 10 March 2024"})
    summary = run_incremental(raw, out)
    assert summary["sites_rebuilt"] == ["gazette"] and summary["duplicate_clusters"] == 1
    docs = pd.read_parquet(out / "documents").set_index("source")
    assert docs.loc["herald/a.txt", "duplicate_of"] == docs.loc["gazette/copy.txt", "doc_id"]
    assert_same_as_fresh(raw, out, tmp_path)
