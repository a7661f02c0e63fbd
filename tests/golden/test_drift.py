"""Template drift: a repeated block that changes slightly from page to page is still boilerplate;
text on only one or two pages is kept."""

from __future__ import annotations

from tests.conftest import run_and_read, write_files

INTRO = "Welcome to the Riverside Gardening Club, where members share tips on growing vegetables, flowers and herbs all year round."
BULLET = "Join our monthly seed swap and meet other growers in the community hall"
MEMBERS = "Members' area: log in to read the quarterly newsletter and the plot rota"


def page(intro: str, bullet: str, members: str, title: str, body: str, shared: str = "", day: int = 3) -> str:
    return "\n\n".join(
        x
        for x in [
            "Riverside Gardening Club",
            intro,
            f"  • {bullet}\n  • Plot waiting list opens every spring",
            members,
            title,
            body,
            shared,
            f"First published {day} May 2023",
        ]
        if x
    )


SHARED_TWO = (
    "Our tomato trial compared six heirloom varieties grown under identical conditions in raised beds."
)
TITLES = [
    "Broad beans first",
    "Compost basics",
    "Keeping slugs away",
    "Lifting dahlias",
    "Saving rainwater",
    "Autumn garlic",
]
BODIES = [
    "Spring planting starts once the soil has warmed; broad beans can go in first, followed by peas.",
    "Composting turns kitchen scraps into rich humus; keep a balance of green and brown material.",
    "Slugs love lettuce seedlings, so protect them with copper tape or go out with a torch after rain.",
    "Dahlias need lifting before the first frost in colder gardens and storing somewhere dry.",
    "Rainwater butts save money and plants prefer it; fit a diverter to the downpipe of the shed.",
    "Garlic planted in autumn gives bigger bulbs than spring planting, given well drained soil.",
]


def drift_site() -> dict[str, str | bytes]:
    variants = [
        (INTRO, BULLET, MEMBERS),  # exact
        (INTRO, BULLET, MEMBERS.replace("'", "\u2019")),  # curly quotes
        (INTRO.replace(" ", "  "), BULLET.replace(" ", "  "), MEMBERS),  # doubled spaces
        (INTRO.replace("all year round.", "all through the year!"), BULLET, MEMBERS),  # edited sentence end
        (
            INTRO,
            "Join our monthly seed swap to meet fellow growers in the community hall",
            MEMBERS,
        ),  # reworded
        (INTRO, BULLET, MEMBERS.replace("'", "\u2019")),  # cp1252 + CRLF below
    ]
    files: dict[str, str | bytes] = {}
    for i, (intro, bullet, members) in enumerate(variants):
        shared = SHARED_TWO if i in (1, 2) else ""
        text = page(intro, bullet, members, TITLES[i], BODIES[i], shared, day=i + 1)
        if i == 5:
            files[f"garden/p{i}.txt"] = text.replace("\n", "\r\n").encode("cp1252")
        else:
            files[f"garden/p{i}.txt"] = text
    return files


def test_drifting_template_is_stripped_everywhere(tmp_path):
    raw = write_files(tmp_path / "raw", drift_site())
    _, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].sort_values("source")
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


def test_min_pages_threshold_is_respected(tmp_path):
    from pipeline.config import BoilerplateConfig, PipelineConfig

    raw = write_files(tmp_path / "raw", drift_site())
    cfg = PipelineConfig(boilerplate=BoilerplateConfig(min_pages=2))
    _, ds = run_and_read(raw, tmp_path / "out", cfg)
    assert not ds["documents"].text.str.contains("tomato trial").any()  # now on enough pages
