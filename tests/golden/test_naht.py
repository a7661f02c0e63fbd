"""The five bundled pages of one real site: exact titles and dates, template gone, article kept."""

from __future__ import annotations

import datetime as dt
import re

from tests.support import BUNDLED, read_tables

EXPECTED = {
    "000": ("Neurodiversity in the classroom: practical strategies for leaders", dt.date(2025, 12, 18), None),
    "001": ("NAHT statement on the safeguarding case report of Child Q", dt.date(2022, 3, 30), None),
    "002": (
        "Department for Education behaviour hubs programme: updates",
        dt.date(2020, 6, 24),
        dt.date(2020, 9, 15),
    ),
    "003": (
        "DfE issues careers guidance and access for education and training providers",
        dt.date(2021, 7, 19),
        None,
    ),
    "004": (
        "What is contextual safeguarding? Information and resources from the Contextual Safeguarding Network",
        dt.date(2018, 6, 20),
        None,
    ),
}
FORBIDDEN = [
    "Home Menu",
    "Pupil wellbeing icon.jpg",
    "NAHT is campaigning to",
    "Lobby for pupils and schools",
    "First published",
    "Safeguarding and support for pupils",
]


def _ws(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u00a0", " ")).strip()


def _article_lines(name: str) -> list[str]:
    """Lines of one seed page that no other seed page has: its own article (plus title and dates)."""
    others: set[str] = set()
    for f in BUNDLED.iterdir():
        if f.name != name:
            others.update(_ws(x) for x in f.read_text(encoding="utf-8").splitlines())
    mine = [_ws(x) for x in (BUNDLED / name).read_text(encoding="utf-8").splitlines()]
    return [x for x in mine if x not in others and re.search(r"\w", x)]


def test_titles_and_dates(processed_naht):
    ds = read_tables(processed_naht)
    docs = ds["documents"]
    assert len(docs) == 5
    for prefix, (title, published, updated) in EXPECTED.items():
        row = docs[docs.source.str.contains(f"/{prefix}_")].iloc[0]
        assert row.title == title
        assert row.published == published
        assert row.published_source == "text"
        if updated is None:
            assert row.updated is None or row.updated != row.updated  # None / NaT
        else:
            assert row.updated == updated


def test_template_removed_and_article_kept(processed_naht):
    ds = read_tables(processed_naht)
    docs = ds["documents"]
    for row in docs.itertuples():
        for bad in FORBIDDEN:
            assert bad not in row.text, (row.source, bad)
        assert not any(line.strip() == ";" for line in row.text.splitlines())
        assert "\u00a0" not in row.text
        name = row.source.split("/")[-1]
        text = _ws(row.text)
        for line in _article_lines(name):
            line = re.sub(r"^[•\d.]+\s*", "", line)
            if line.startswith("First published") or line == row.title:
                continue
            assert line in text, (name, line)


def test_boilerplate_dataset_and_blocks_audit(processed_naht):
    ds = read_tables(processed_naht)
    bp, blocks = ds["boilerplate"], ds["blocks"]
    assert (bp.n_pages == 5).all() and (bp.site == "naht").all()
    assert any("NAHT is campaigning to" in t for t in bp.text)
    removed = blocks[blocks.is_boilerplate]
    assert set(removed.removed_by) == {"boilerplate"}
    assert set(removed.cluster_id) <= set(bp.cluster_id)
    # undo a removal: the removed blocks are all still there, in page order
    first = blocks[blocks.doc_id == blocks.doc_id.iloc[0]].sort_values("position")
    assert first.text.iloc[0] == "Home Menu" and first.is_boilerplate.iloc[0]
    datelines = blocks[blocks.removed_by == "dateline"]
    assert datelines.text.str.startswith("First published").all()
    assert datelines.doc_id.nunique() == 5
