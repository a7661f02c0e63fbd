"""documents.author, description, sitename, tags, language and image through the run users run
(`pipeline.run_incremental`): explicit Arrow types, values with their sources on HTML pages (layout
sample or not), nulls on the plain-text pages of naht (but for the detected language), and a re-run
over an output written before these columns existed."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import run_incremental
from pipeline.config import PipelineConfig
from pipeline.schemas import DOCUMENTS_SCHEMA, PAGES_STATE
from tests.support import layout_cfg, read_tables, sample_flags, write_files

NEW = ["author", "description", "sitename", "tags", "language", "image"]
SOURCES = [f"{c}_source" for c in NEW]

LEDE = (
    "The allotment association met on Saturday to share out the new plots by the railway line, and "
    "every member who had waited more than a year was given one."
)


BYLINE_ONLY = (3, 4)


def garden_page(i: int) -> str:
    """A page of a small WordPress site: its own <meta> and JSON-LD (pages 3 and 4: an author only in
    a byline), German text on page 5 under a template that declares English for every page."""
    body = (
        f"<p>{LEDE} Plot {i} went to a family from the estate.</p>"
        if i != 5
        else "<p>Der Kleingartenverein hat am Samstag die neuen Parzellen an der Bahnlinie verteilt, "
        "und jedes Mitglied, das länger als ein Jahr gewartet hatte, bekam eine.</p>"
    )
    jsonld = """<script type="application/ld+json">{"@context": "https://schema.org", "@type": "BlogPosting",
 "author": {"@type": "Person", "name": "Ruth Okafor"}}</script>"""
    byline = '<div class="author-info"><span class="author">Tomasz Wrona</span></div>'
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>Plot news {i} | Riverside Allotments</title>
<link rel="canonical" href="https://allotments.example.org/news/plot-{i}/">
<meta name="description" content="What happened to plot {i} this month.">
<meta property="og:site_name" content="Riverside Allotments">
<meta property="og:image" content="/media/plot-{i}.jpg">
<meta property="article:section" content="News">
<meta property="article:tag" content="Plots">
{"" if i in BYLINE_ONLY else jsonld}
</head><body><header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>
<main><article><h1>Plot news {i}</h1>{byline if i in BYLINE_ONLY else ""}{body}
<p>Water butts are now on every path, and the compost bays have been rebuilt after the storm.</p>
</article></main><footer><p>Riverside Allotments, Mill Lane</p></footer></body></html>"""


def garden(n: int) -> dict[str, str | bytes]:
    return {f"garden/plot-{i}.html": garden_page(i) for i in range(n)}


def test_new_columns_have_their_arrow_types(processed_naht):
    for f in sorted((processed_naht / "documents").glob("*.parquet")):
        schema = pq.read_schema(f)
        assert schema.field("tags").type == pa.list_(pa.string())
        for name in [c for c in NEW if c != "tags"] + SOURCES:
            assert schema.field(name).type == pa.string() and schema.field(name).nullable
        assert schema.remove_metadata() == DOCUMENTS_SCHEMA.remove_metadata()


def test_plain_text_pages_say_nothing_but_their_language(processed_naht):
    docs = read_tables(processed_naht)["documents"]
    assert len(docs) == 5
    for column in ["author", "description", "sitename", "tags", "image"]:
        assert docs[column].isna().all(), column
        assert docs[f"{column}_source"].isna().all(), column
    assert (docs.language == "en").all() and (docs.language_source == "langid").all()


def test_html_pages_carry_their_metadata_and_language(tmp_path):
    out = tmp_path / "out"
    run_incremental(write_files(tmp_path / "raw", garden(6)), out)
    docs = read_tables(out)["documents"].set_index("url")
    row = docs.loc["https://allotments.example.org/news/plot-2/"]
    assert (row.author, row.author_source) == ("Ruth Okafor", "json-ld")
    assert (row.description, row.description_source) == ("What happened to plot 2 this month.", "meta")
    assert (row.sitename, row.sitename_source) == ("Riverside Allotments", "meta")
    assert (list(row.tags), row.tags_source) == (["News", "Plots"], "meta")
    assert (row.image, row.image_source) == ("https://allotments.example.org/media/plot-2.jpg", "meta")
    assert (row.language, row.language_source) == ("en", "html-lang")
    byline = docs.loc["https://allotments.example.org/news/plot-4/"]  # no author in its metadata
    assert (byline.author, byline.author_source) == ("Tomasz Wrona", "trafilatura")
    german = docs.loc["https://allotments.example.org/news/plot-5/"]
    assert (german.language, german.language_source) == ("de", "langid")


def test_pages_outside_the_layout_sample_get_the_same_metadata(tmp_path):
    out = tmp_path / "out"
    run_incremental(write_files(tmp_path / "raw", garden(12)), out, layout_cfg(2))
    flags = sample_flags(out)
    assert 0 < sum(flags.values()) < len(flags)  # trafilatura ran on some pages only
    docs = read_tables(out)["documents"]
    assert len(docs) == 12
    byline = docs.source.isin([f"garden/plot-{i}.html" for i in BYLINE_ONLY])
    assert set(docs[~byline].author) == {"Ruth Okafor"} and set(docs[~byline].author_source) == {"json-ld"}
    rows = docs[byline].astype(object).where(docs[byline].notna(), None).to_dict("records")
    found = {flags[r["doc_id"]]: (r["author"], r["author_source"]) for r in rows}
    assert found == {True: ("Tomasz Wrona", "trafilatura"), False: (None, None)}  # a byline needs trafilatura
    assert set(docs.sitename) == {"Riverside Allotments"} and docs.image.str.endswith(".jpg").all()
    assert {tuple(t) for t in docs.tags} == {("News", "Plots")}


def test_a_rerun_over_output_written_before_the_columns_parses_again(tmp_path):
    raw = write_files(tmp_path / "raw", garden(3))
    out = tmp_path / "out"
    run_incremental(raw, out)
    version = (out / "_runs" / "current").resolve()
    for f in (version / "documents").glob("*.parquet"):  # documents as pipeline 0.4.0 wrote them
        old = pq.read_table(f)
        pq.write_table(old.drop_columns(NEW + SOURCES).replace_schema_metadata(old.schema.metadata), f)
    for f in (version / "_state" / "parsed").glob("*.pages.parquet"):
        pq.write_table(pq.read_table(f).drop_columns(["meta"]), f)
    meta_path = version / "_state" / "meta.json"
    meta = json.loads(meta_path.read_text())
    cfg = PipelineConfig()
    meta.update(
        parse_fingerprint=cfg.parse_fingerprint("0.4.0"), model_fingerprint=cfg.model_fingerprint("0.4.0")
    )
    meta_path.write_text(json.dumps(meta))

    summary = run_incremental(raw, out)
    assert summary["parsed"] == 3 and summary["sites_rebuilt"] == ["garden"]
    docs = read_tables(out)["documents"]
    assert set(docs.author) == {"Ruth Okafor"} and set(docs.language) == {"en"}
    assert docs.tags.map(len).eq(2).all()
    changes = pd.read_parquet(out / "changes")
    assert set(changes[changes.run_id == summary["run_id"]].change) == {"unchanged-but-rewritten"}
    state = pq.read_table(next((out / "_state" / "parsed").glob("*.pages.parquet")))
    assert state.schema.field("meta").type == PAGES_STATE.field("meta").type
