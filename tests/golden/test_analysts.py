"""The analysts' side: README examples run as written, dtypes, the notebook, the report, `show`."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import duckdb
import nbformat
import pandas as pd
import pyarrow as pa
from nbclient import NotebookClient

from pipeline.store.read import read_dataset
from pipeline.store.report import render_report
from tests.support import REPO


def _readme_python_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the data", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def run_snippet(code: str, scope: dict | None = None):
    """Run a README snippet as a notebook would: everything, and the value of its last expression
    (`scope`: the names earlier cells of the same notebook left)."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    scope = {} if scope is None else scope
    exec(compile(tree, "<README>", "exec"), scope)
    return eval(compile(ast.Expression(last.value), "<README>", "eval"), scope) if last else None


def test_readme_examples_run_as_written(processed_naht, monkeypatch):
    monkeypatch.chdir(processed_naht.parent)
    pandas_example, duckdb_example, reader_example, others_example, dataset_example = _readme_python_blocks()
    docs = run_snippet(pandas_example)
    assert len(docs) == 5 and list(docs.columns) == ["site", "title", "published", "updated"]
    assert docs.published.dtype == pd.ArrowDtype(pa.date32())
    per_site = run_snippet(duckdb_example)
    assert per_site.to_dict("records") == [{"site": "naht", "pages": 5, "dated": 5, "removed_blocks": 105}]
    notebook: dict = {}
    read = run_snippet(reader_example, notebook)
    assert list(read.columns) == ["site", "title", "published"] and len(read) == 5
    assert notebook["url"].startswith(str(processed_naht.resolve() / "_runs")) and notebook["url"].endswith(
        "/documents"
    )
    counts = run_snippet(others_example, notebook)
    assert counts.rows() == [("naht", 5)] and notebook["pages"].to_dict("records") == [
        {"site": "naht", "pages": 5}
    ]
    removed = run_snippet(dataset_example)
    assert len(removed) == 105 and set(removed.columns) == {"site", "doc_id", "text"}


def test_dtypes_and_duckdb_reads_all_datasets(processed_naht):
    docs = read_dataset(processed_naht, "documents")
    assert docs.published.dtype == pd.ArrowDtype(pa.date32()) and docs.updated.dtype == pd.ArrowDtype(
        pa.date32()
    )
    assert not any(pd.api.types.is_object_dtype(dtype) for dtype in docs.dtypes)
    plain = pd.read_parquet(processed_naht / "documents")
    assert str(plain.site.dtype) in ("string", "str", "category")
    for name in ("documents", "blocks", "boilerplate", "skipped"):
        n = duckdb.sql(f"select count(*) from read_parquet('{processed_naht / name}/*.parquet')").fetchall()[
            0
        ][0]
        assert n == {"documents": 5, "blocks": 167, "boilerplate": 21, "skipped": 0}[name]


def test_notebook_executes_on_a_fresh_run(processed_naht, monkeypatch):
    monkeypatch.setenv("SITESIFT_OUT", str(processed_naht))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" for o in outputs)
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "naht" in text and "with boilerplate restored" in text


def test_report_for_the_bundled_pages(processed_naht, tmp_path):
    html_path = render_report(processed_naht, tmp_path / "rep" / "report.html")
    html = html_path.read_text(encoding="utf-8")
    sites = pd.read_html(html_path, match="boilerplate share")[0]
    row = sites.iloc[0]
    assert row["site"] == "naht" and row["pages"] == 5
    assert float(row["boilerplate share"].rstrip("%")) > 50
    assert row["with published date"] == "5 of 5" and row["with updated date"] == "1 of 5"
    assert html.count("data:image/png;base64,") == 2  # self-contained
    for png in ("report-timeline.png", "report-boilerplate-share.png"):
        assert (html_path.parent / png).read_bytes().startswith(b"\x89PNG")
    assert "NAHT members are at the forefront of safeguarding children" in html and "Skipped inputs" in html


def test_show_prints_a_page_with_removed_blocks_marked(processed_naht):
    docs = read_dataset(processed_naht, "documents")
    doc = docs[docs.title.str.startswith("Department for Education")].iloc[0]
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "show", doc.doc_id[:8], "--out", str(processed_naht)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Department for Education behaviour hubs programme: updates" in out
    assert "published: 2020-06-24 (from text)" in out and "updated: 2020-09-15 (from text)" in out
    assert "REMOVED (boilerplate) heading: Home Menu" in out
    assert "REMOVED (dateline) heading: First published 24 June 2020" in out
    assert "+ paragraph: NAHT continues to engage" in out
    bad = subprocess.run(
        [sys.executable, "-m", "flows.cli", "show", "zzzz", "--out", str(processed_naht)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "no document" in bad.stderr
