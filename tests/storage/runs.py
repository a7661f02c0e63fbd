"""What the object-store tests share, whatever the store: the corpus (page files and a WARC of a
third site), uploading a local folder, and comparing the tables read back with a local run's."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from pipeline import read_dataset
from pipeline.locations import Remote
from tests.support import ROW_KEYS, RUN_COLUMNS, drift_site, gazette, story_page, warc_file, write_files


@functools.cache  # one build: a WARC file's record ids and dates differ from one build to the next
def corpus() -> dict[str, str | bytes]:
    """Two folders of page files and a crawl of a third site in a WARC file (read by range)."""
    crawl = [
        (f"https://herald.example/news/{i}", story_page(i, f"Herald {i}", "2024-03-0{i}", None).encode())
        for i in range(1, 5)
    ]
    return {**gazette(), **drift_site(), "crawl/herald.warc.gz": warc_file(crawl)}


def upload(local: Path, url: str) -> None:
    """Every file below a local folder to the same names below a URL."""
    remote = Remote(url)
    files = sorted(p for p in local.rglob("*") if p.is_file())
    remote.fs().put([str(p) for p in files], [remote.key(p.relative_to(local).as_posix()) for p in files])


def canonical(out: str | Path) -> dict[str, pd.DataFrame]:
    """Every dataset but `changes` through the public reader, in row-key order, without run columns."""
    return {
        name: read_dataset(out, name)
        .drop(columns=RUN_COLUMNS, errors="ignore")
        .sort_values(key)
        .reset_index(drop=True)
        for name, key in ROW_KEYS.items()
    }


def assert_same(remote: str, local: Path) -> None:
    got, expected = canonical(remote), canonical(local)
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def edit(raw: Path) -> dict[str, str | bytes]:
    """A new page and a changed one."""
    return write_files(
        raw,
        {
            "gazette/story-9.html": story_page(0, "A late story", "2024-05-01", None).replace(
                "Story 0", "Story 9"
            ),
            "gazette/story-1.html": story_page(1, "Changed title", "2020-06-24", "2021-01-01"),
        },
    )
