"""`sitesift report` on a real run's output: the run's metadata, shares as percentages, empty cells for
nulls, skipped inputs summarised by reason; and the summary rows of the `process` flow's artifact."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline import PIPELINE_VERSION, run_incremental
from pipeline.config import PipelineConfig
from pipeline.store.parquet import current_run
from pipeline.store.report import render_report, summary_rows
from tests.support import ARTICLE, BUNDLED, OTHERS, write_files

PERCENT = re.compile(r"^\d{1,3}\.\d%$")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("report")
    files: dict[str, str | bytes] = {f"naht/{p.name}": p.read_bytes() for p in BUNDLED.iterdir()}
    files |= {
        "herald/a.txt": f"Trees for the river\n\n{ARTICLE}\n\nFirst published 12 March 2024",
        "herald/copy.txt": f"Ten thousand trees\n\n{ARTICLE}\n\nFirst published 10 March 2024",
        "herald/b.txt": f"New bus route\n\n{OTHERS[0]}\n\nFirst published 2 March 2024",
        "herald/undated.txt": f"Book fair\n\n{OTHERS[1]}",
        **{f"bad/empty{i}.html": b"" for i in range(7)},
        "bad/binary.html": b"\x00\x01\x02" * 100,
    }
    raw = write_files(root / "raw", files)
    summary = run_incremental(raw, root / "processed")
    return root / "processed", summary


def tables(html_path: Path) -> dict[str, pd.DataFrame]:
    """The report's tables by the heading above them, every cell as the text shown (empty for none)."""
    text = html_path.read_text(encoding="utf-8")
    found = {}
    for heading, table in re.findall(r"<h2>([^<]+)</h2>(<table.*?</table>)", text, flags=re.S):
        (df,) = pd.read_html(
            io.StringIO(table), keep_default_na=False, header=0 if "<thead>" in table else None
        )
        found[heading] = df.astype(str)
    return found


def test_report_shows_the_run_formats_shares_and_leaves_nulls_empty(run, tmp_path):
    out, summary = run
    html_path = render_report(out, tmp_path / "report.html")
    html = html_path.read_text(encoding="utf-8")
    assert "<NA>" not in html and "&lt;NA&gt;" not in html and ">nan<" not in html
    shown = tables(html_path)

    meta = dict(zip(shown["Run"][0], shown["Run"][1]))
    version = current_run(out)
    assert version is not None
    state = json.loads((version / "_state" / "meta.json").read_text())
    written = dt.datetime.fromisoformat(state["written_at"])
    assert meta["run at"] == written.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert meta["run id"] == version.name and meta["pipeline version"] == PIPELINE_VERSION
    assert meta["settings fingerprint"] == PipelineConfig().fingerprint()
    assert meta["pages"] == str(summary["pages"]) == "9" and meta["sites re-learned"] == "herald, naht"
    assert '"min_pages": 3' in html  # the full settings, folded under the table

    sites = shown["Sites"].set_index("site")
    blocks = pd.read_parquet(out / "blocks").query("site == 'naht'")
    chars = blocks.text.str.len()
    assert sites.loc["naht", "boilerplate share"] == f"{chars[blocks.is_boilerplate].sum() / chars.sum():.1%}"
    assert all(PERCENT.match(v) for v in shown["Top boilerplate clusters"].share_of_pages)

    dups = shown["Near-duplicate clusters"].set_index("source")
    canonical = dups.loc["herald/copy.txt"]  # the earlier copy: no duplicate_of, an empty cell
    assert canonical.duplicate_of == "" and dups.loc["herald/a.txt", "duplicate_of"] == canonical.dup_cluster


def test_skipped_inputs_are_summarised_by_reason_with_the_first_examples(run, tmp_path):
    out, _ = run
    html_path = render_report(out, tmp_path / "report.html")
    skipped = tables(html_path)["Skipped inputs"].set_index("reason")
    assert skipped.inputs.to_dict() == {"binary": "1", "empty": "7"}
    assert skipped.loc["empty", "examples"] == "bad/empty0.html, bad/empty1.html, bad/empty2.html, and 4 more"
    assert skipped.loc["binary", "examples"] == "bad/binary.html" and skipped.loc["binary", "detail (first)"]
    assert "bad/empty6.html" not in html_path.read_text(encoding="utf-8")  # not every row


def test_the_last_runs_changes_are_shown(run, tmp_path):
    out, _ = run
    version = current_run(out)
    assert version is not None
    docs = pd.read_parquet(out / "documents")
    changes = pd.read_parquet(out / "changes")
    assert set(changes.run_id) == {version.name}  # the fixture's one run: every page new
    shown = tables(render_report(out, tmp_path / "report.html"))["Last run's changes"]
    assert shown.change.tolist() == ["new"] and shown.pages.tolist() == [str(len(docs))] == ["9"]
    assert shown.examples[0].startswith(sorted(docs.doc_id)[0]) and shown.examples[0].endswith("and 6 more")


def test_summary_rows_give_percentages_and_the_output_paths(run):
    out, summary = run
    rows = summary_rows(summary, out)
    *sites, total = rows
    assert [r["site"] for r in sites] == ["herald", "naht"] and total["site"] == "all 2 sites"
    naht = next(r for r in sites if r["site"] == "naht")
    share = next(s["boilerplate_share"] for s in summary["sites"] if s["site"] == "naht")
    assert naht["boilerplate share"] == f"{share:.1%}" and naht["with published"] == "5 (100.0%)"
    assert naht["with updated"] == "1 (20.0%)" and naht["re-learned"] == "yes"
    for row in sites:
        assert PERCENT.match(row["boilerplate share"])
        assert pd.read_parquet(row["output"]).site.unique().tolist() == [row["site"]]
    assert (
        total["pages"] == 9
        and total["with published"] == "8 (88.9%)"
        and total["output"] == str(out.resolve())
    )
    assert total["duplicate pages"] == summary["duplicate_pages"] == 1
