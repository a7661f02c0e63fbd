"""`sitesift export` on a real run's output, read back: JSON Lines, CSV and Markdown files hold every
page with every column, values as the documents dataset has them, whatever the batch boundaries."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.store.export import export_documents
from pipeline.store.read import read_dataset
from pipeline.store.state_layout import site_file_name
from tests.support import REPO, gazette, run_and_read, write_files

TRICKY_TITLE = "Budget: “cuts”, #1 & 'quotes' — naïve café: yes? no!"
TRICKY = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{TRICKY_TITLE} | Example Gazette</title>
<link rel="canonical" href="https://gazette.example/budget?x=1&amp;y=2">
<meta property="article:published_time" content="2024-06-03T10:00:00+01:00">
<meta property="article:tag" content="Council, budget"><meta property="article:tag" content="Money"></head><body>
<header><div class="logo">Example Gazette</div><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><article><h1>{TRICKY_TITLE}</h1>
<p>The budget line: "no cuts", said the treasurer, quoting a 1,000-word report with a #hashtag.</p>
<p>---</p><p>A second paragraph, with a comma, a "quote" and a line that looks like front matter.</p>
</article></main><footer><p>© 2024 Example Gazette. All rights reserved.</p></footer></body></html>"""


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    raw = write_files(root / "raw", {**gazette(), "gazette/budget.html": TRICKY})
    write_files(raw, {f"naht/{p.name}": p.read_bytes() for p in (REPO / "raw" / "naht").iterdir()})
    run_and_read(raw, root / "processed")
    return root / "processed"


@pytest.fixture(scope="module")
def docs(processed) -> pd.DataFrame:
    docs = read_dataset(processed, "documents")
    assert len(docs) == 11 and TRICKY_TITLE in set(docs.title) and docs.url.notna().any()
    assert docs.updated.isna().any() and docs.url.isna().any()  # nulls to carry over
    return docs.sort_values("doc_id").reset_index(drop=True)


def python_rows(docs: pd.DataFrame) -> list[dict]:
    """The dataset's rows as Python values (None for nulls, dates as dates, lists as lists)."""
    rows = docs.astype(object).where(docs.notna(), None).to_dict("records")
    return [{k: v.tolist() if hasattr(v, "tolist") else v for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("batch_rows", [1000, 2])  # 2: every batch boundary is crossed
def test_jsonl_has_one_record_a_page_with_every_column(processed, docs, tmp_path, batch_rows):
    done = export_documents(processed, "jsonl", tmp_path / "docs.jsonl", batch_rows=batch_rows)
    lines = done.path.read_text(encoding="utf-8").splitlines()
    assert done.pages == len(lines) == len(docs)
    records = sorted((json.loads(line) for line in lines), key=lambda r: r["doc_id"])
    for record, row in zip(records, python_rows(docs), strict=True):
        assert list(record) == list(docs.columns)
        for column, value in row.items():
            expected = value.isoformat() if isinstance(value, dt.date) else value
            assert record[column] == expected, column
    assert next(r for r in records if r["title"] == TRICKY_TITLE)["tags"] == ["Council, budget", "Money"]
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("batch_rows", [1000, 2])
def test_csv_reads_back_as_the_documents(processed, docs, tmp_path, batch_rows):
    done = export_documents(processed, "csv", tmp_path, batch_rows=batch_rows)
    assert done.path == tmp_path / "documents.csv" and done.pages == len(docs)
    back = (
        pd.read_csv(done.path, dtype=str, keep_default_na=False).sort_values("doc_id").reset_index(drop=True)
    )
    assert list(back.columns) == list(docs.columns) and len(back) == len(docs)
    for column in ("doc_id", "site", "url", "source", "title", "text", "content_hash", "pipeline_version"):
        assert back[column].tolist() == docs[column].fillna("").tolist(), column
    assert back.published.tolist() == docs.published.astype(str).fillna("").tolist()
    assert back.n_blocks.astype(int).tolist() == docs.n_blocks.tolist()
    tags = back.set_index("title").tags
    assert json.loads(tags[TRICKY_TITLE]) == ["Council, budget", "Money"]  # a JSON array: the comma stays
    assert (back[back.title != TRICKY_TITLE].tags == "").all()  # null


def folder(site: str) -> str:
    """The folder of a site's pages: its file name in the datasets, without the suffix."""
    return site_file_name(site).removesuffix(".parquet")


def front_matter(text: str) -> tuple[dict, str]:
    head, _, body = text.removeprefix("---\n").partition("\n---\n\n")
    return yaml.safe_load(head), body


def test_markdown_is_one_file_a_page_with_front_matter_then_the_text(processed, docs, tmp_path):
    done = export_documents(processed, "markdown", tmp_path / "md", batch_rows=3)
    files = sorted(done.path.rglob("*.md"))
    assert done.pages == len(files) == len(docs)
    assert {f.parent.name for f in files} == {folder(site) for site in docs.site}
    for row in python_rows(docs):
        path = done.path / folder(row["site"]) / f"{row['doc_id']}.md"
        meta, body = front_matter(path.read_text(encoding="utf-8"))
        assert list(meta)[:5] == ["title", "url", "published", "updated", "site"]
        assert set(meta) == set(docs.columns) - {"text"}
        for column, value in meta.items():
            assert value == row[column], (path.name, column)
        assert body == row["text"].rstrip() + "\n"
    tricky = docs[docs.title == TRICKY_TITLE].iloc[0]
    meta, body = front_matter(
        (done.path / folder(tricky.site) / f"{tricky.doc_id}.md").read_text(encoding="utf-8")
    )
    assert meta["title"] == TRICKY_TITLE and meta["url"] == "https://gazette.example/budget?x=1&y=2"
    assert meta["published"] == dt.date(2024, 6, 3) and "looks like front matter" in body
    assert meta["tags"] == ["Council, budget", "Money"] and meta["tags_source"] == "meta"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "export", *args],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cli_exports_to_stdout_and_refuses_bad_values_in_one_line(processed, docs, tmp_path):
    proc = cli("--format", "jsonl", "--out", str(processed), "--to", "-")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_json(io.BytesIO(proc.stdout), lines=True)) == len(docs)
    assert f"exported {len(docs)} pages as jsonl to -" in proc.stderr.decode()
    for args, message in [
        (("--format", "xml", "--out", str(processed)), "--format xml: expected one of jsonl, csv, markdown"),
        (("--format", "markdown", "--out", str(processed), "--to", "-"), "give it a folder"),
        (("--out", str(tmp_path / "none")), "documents does not exist"),
        (("--out", str(processed), "--to", str(tmp_path / "no" / "x.jsonl")), "does not exist"),
    ]:
        bad = cli(*args)
        err = bad.stderr.decode().strip()
        assert bad.returncode == 2 and message in err and "\n" not in err, (args, err)
