"""Template drift: a repeated block that changes slightly from page to page is still boilerplate;
text on only one or two pages is kept."""

from __future__ import annotations

from pipeline.config import BoilerplateConfig, PipelineConfig
from tests.support import BODIES, TITLES, read_tables, run_and_read


def test_drifting_template_is_stripped_everywhere(processed_drifting_site):
    docs = read_tables(processed_drifting_site)["documents"].sort_values("source")
    assert len(docs) == 6
    for i, row in enumerate(docs.itertuples()):
        assert "Riverside Gardening Club" not in row.text, row.source
        assert "seed swap" not in row.text, row.source
        assert "area: log in" not in row.text, row.source
        assert "Plot waiting list" not in row.text, row.source
        assert BODIES[i] in row.text
        assert row.title == TITLES[i]
        assert str(row.published) == f"2023-05-0{i + 1}"
        assert "\r" not in row.text
    with_shared = docs[docs.text.str.contains("tomato trial")]
    assert len(with_shared) == 2  # on two pages only: article text, kept


def test_min_pages_threshold_is_respected(drifting_site_raw, tmp_path):
    cfg = PipelineConfig(boilerplate=BoilerplateConfig(min_pages=2))
    _, ds = run_and_read(drifting_site_raw, tmp_path / "out", cfg)
    assert not ds["documents"].text.str.contains("tomato trial").any()  # now on enough pages
