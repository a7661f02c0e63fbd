"""Every raw file name has one printable source, and the source names that file again."""

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.acquire.paths import path_of, source_of

ROOT = Path("/raw")


def test_valid_names_stay_as_they_are():
    for name in ("naht/000_page.txt", "a b/c.html", "café/ünï.html", "x\\y.html", "dir/x\\"):
        assert source_of(name) == name


def test_odd_bytes_and_lookalike_backslashes_are_escaped():
    assert source_of(os.fsdecode(b"s/caf\xe9.html")) == "s/caf\\xe9.html"
    assert source_of("s/caf\\xe9.html") == "s/caf\\\\xe9.html"  # a real backslash, x, e, 9
    assert source_of(os.fsdecode(b"a\\\xff")) == "a\\\\\\xff"


@given(
    st.lists(
        # what a file name can be: no "/" or NUL, and not "." or ".." (the folder itself, its parent)
        st.binary(min_size=1, max_size=12).filter(
            lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_name_round_trips_and_is_utf8(parts):
    rel = os.fsdecode(b"/".join(parts))
    source = source_of(rel)
    source.encode("utf-8")  # Parquet can hold it
    assert path_of(ROOT, source) == ROOT / rel
    assert os.fsencode(path_of(ROOT, source)) == b"/raw/" + b"/".join(parts)
