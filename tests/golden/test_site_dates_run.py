"""A whole run on a site large enough to be sampled: pages outside the layout sample take their date
from the site's date model, and htmldate runs again at build, on the page read back from raw/, only
where the model cannot decide (date_decision says which); a re-run that adds a page equals a fresh run."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipeline import run_incremental
from tests.support import assert_same_as_fresh, layout_cfg, sample_flags, write_files
from tests.unit.test_site_dates import _html


def _site(raw: Path, pages: range) -> dict[str, object]:
    """Posts dated in their footer, every fifth only in an unmarked <time>; source -> its date."""
    dates = {}
    for i in pages:
        html, d = _html(i, footer_date=i % 5 != 0)
        write_files(raw, {f"blog/p{i:03d}.html": html})
        dates[f"blog/p{i:03d}.html"] = d
    return dates


def test_unsampled_pages_take_the_learned_date_and_the_others_get_htmldate_from_raw(tmp_path):
    raw, out, cfg = tmp_path / "raw", tmp_path / "out", layout_cfg(4)
    dates = _site(raw, range(40))
    run_incremental(raw, out, cfg)
    docs = pq.read_table(out / "documents").to_pylist()
    flags = sample_flags(out)
    assert len(docs) == 40 and 0 < sum(flags.values()) < 40
    by_decision: dict[str, set[str]] = {}
    for d in docs:
        assert d["published"] == dates[d["source"]]  # htmldate's answer on every page
        by_decision.setdefault(d["date_decision"], set()).add(d["source"])
        if not flags[d["doc_id"]]:
            footer = int(d["source"][6:9]) % 5 != 0
            assert d["date_decision"] == ("site-model" if footer else "htmldate:not-covered")
        else:
            assert d["date_decision"] == "htmldate:sampled"
    assert {"site-model", "htmldate:not-covered", "htmldate:sampled"} <= set(by_decision)

    _site(raw, range(40, 42))  # re-run with new pages: the same as a fresh run
    run_incremental(raw, out, cfg)
    runs = tmp_path / "runs"
    runs.mkdir()
    assert_same_as_fresh(raw, out, runs, cfg)
