"""Properties over generated input: decoding and parsing never crash, order never matters."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.acquire.decode import UndecodableError, decode_bytes, normalise_text
from pipeline.clean.segment_text import segment_text
from pipeline.config import PipelineConfig
from pipeline.records import RawInput, Skipped
from pipeline.run import parse_inputs

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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_fragments)
def test_any_html_is_parsed_or_skipped_with_a_reason(fragment):
    raw = RawInput("s", "s/page.html", fragment.encode("utf-8", "surrogatepass"), "html")
    parsed, skipped = parse_inputs([raw], PipelineConfig())
    assert len(parsed) + len(skipped) == 1
    if skipped:
        assert isinstance(skipped[0], Skipped) and skipped[0].reason and skipped[0].detail


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_site_result_does_not_depend_on_page_order(rnd: random.Random):
    from pipeline.clean.site import build_site
    from tests.golden.test_drift import drift_site

    raws = [
        RawInput("garden", name, data if isinstance(data, bytes) else data.encode(), "text")
        for name, data in drift_site().items()
    ]
    cfg = PipelineConfig()
    parsed, _ = parse_inputs(raws, cfg)
    reference = build_site("garden", parsed, cfg)
    parsed2, _ = parse_inputs(raws, cfg)
    rnd.shuffle(parsed2)
    shuffled = build_site("garden", parsed2, cfg)
    assert [(d.doc_id, d.title, d.text, d.published) for d in reference.documents] == [
        (d.doc_id, d.title, d.text, d.published) for d in shuffled.documents
    ]
