"""Properties over generated input: decoding and parsing never crash, order never matters."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import run_incremental
from pipeline.acquire.decode import UndecodableError, decode_bytes, normalise_text
from pipeline.clean.segment_text import segment_text
from tests.support import assert_same_files, drift_site, run_and_read, write_files, write_shuffled

TAGS = [
    "p",
    "div",
    "li",
    "ul",
    "h1",
    "h2",
    "table",
    "tr",
    "td",
    "pre",
    "script",
    "br",
    "a",
    "span",
    "article",
    "nav",
]
html_fragments = st.lists(
    st.one_of(
        st.sampled_from(
            [f"<{t}>" for t in TAGS]
            + [f"</{t}>" for t in TAGS]
            + ["<!--", "-->", "<![CDATA[", "&amp;", "&#0;", "<?xml version='1.0'?>"]
        ),
        st.text(max_size=40),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_decoding_any_bytes_gives_text_or_a_clear_error(data):
    try:
        text, encoding = decode_bytes(data)
    except UndecodableError as exc:
        assert "decodes" in str(exc)
        return
    assert isinstance(text, str) and encoding
    clean = normalise_text(text)
    assert "\r" not in clean and "\u00a0" not in clean


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=3000))
def test_text_segmentation_invariants(text):
    blocks = segment_text(normalise_text(text))
    assert [b.position for b in blocks] == list(range(len(blocks)))
    assert all(any(c.isalnum() or c == "_" for c in b.text) for b in blocks)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(html_fragments, min_size=1, max_size=6))
def test_any_html_is_parsed_or_skipped_with_a_reason(tmp_path, fragments):
    """Several generated pages per run (a run costs more than a page): each ends as one document row
    or one skipped row with a reason."""
    files = {f"s/page{i}.html": f.encode("utf-8", "surrogatepass") for i, f in enumerate(fragments)}
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        _, ds = run_and_read(write_files(Path(tmp) / "raw", files), Path(tmp) / "out")
    docs, skipped = ds["documents"], ds["skipped"]
    assert sorted([*docs.source, *skipped.source]) == sorted(files)
    assert (skipped.reason.str.len() > 0).all() and (skipped.detail.str.len() > 0).all()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.randoms(use_true_random=False))
def test_the_tables_do_not_depend_on_file_order(processed_drifting_site, tmp_path, rnd: random.Random):
    """The drifting site's files created in a random order with random mtimes: the same tables as
    the session's run over them (rows in the same order)."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        raw = write_shuffled(Path(tmp) / "raw", drift_site(), rnd)
        run_incremental(raw, Path(tmp) / "out")
        assert_same_files(Path(tmp) / "out", processed_drifting_site)
