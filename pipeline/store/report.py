"""A self-contained HTML report of a run, with two matplotlib plots also saved as PNG beside it, and
the rows of the run summary the `process` flow shows as its artifact. Reads the published datasets and
the current version's run.json and state meta; writes the report files."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.store.parquet import current_run
from pipeline.store.read import read_all
from pipeline.store.state_layout import META, SiteFiles

EXAMPLES = 3  # skipped inputs (and changed pages) shown per reason; the rest are counted
CHANGES = "changes"  # the dataset of what each run changed, once runs write it
STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222} h2{margin-top:2em} pre{font-size:85%}
table.t{border-collapse:collapse;margin:1em 0}
table.t td,table.t th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
"""


def site_stats(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per site: pages, boilerplate share (characters), date coverage by source, duplicates."""
    docs, blocks = data["documents"], data["blocks"]
    chars = blocks.assign(n=blocks.text.str.len(), bp=blocks.text.str.len().where(blocks.is_boilerplate, 0))
    share = chars.groupby("site").agg(n=("n", "sum"), bp=("bp", "sum"))
    rows = []
    for site, g in docs.groupby("site", sort=True):
        by_source = g.published_source.dropna().value_counts().sort_index()
        rows.append(
            {
                "site": site,
                "pages": len(g),
                "boilerplate share": float(share.loc[site, "bp"] / share.loc[site, "n"])
                if site in share.index
                else 0.0,
                "with published date": f"{int(g.published.notna().sum())} of {len(g)}",
                "published by source": ", ".join(f"{k}: {v}" for k, v in by_source.items()) or "-",
                "with updated date": f"{int(g.updated.notna().sum())} of {len(g)}",
                "duplicate pages": int(g.duplicate_of.notna().sum()),
            }
        )
    return pd.DataFrame(rows)


def page_boilerplate_share(data: dict[str, pd.DataFrame]) -> pd.Series:
    blocks = data["blocks"]
    n = blocks.text.str.len()
    per_doc = pd.DataFrame({"doc_id": blocks.doc_id, "n": n, "bp": n.where(blocks.is_boilerplate, 0)})
    g = per_doc.groupby("doc_id").sum()
    return (g.bp / g.n.where(g.n > 0)).fillna(0.0)


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    return plt, fig, ax


def _finish(plt, fig, ax, title: str, xlabel: str) -> bytes:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    png = _figure_png(fig)
    plt.close(fig)
    return png


def plot_timeline(docs: pd.DataFrame) -> bytes:
    plt, fig, ax = _axes()
    dated = docs[docs.published.notna()]
    for i, (site, g) in enumerate(sorted(dated.groupby("site"), key=lambda x: x[0])):
        dates = pd.to_datetime(g.published.astype("string"))
        ax.scatter(dates, [i] * len(g), label=site, s=18)
    sites = sorted(dated.site.unique())
    ax.set_yticks(range(len(sites)), sites)
    return _finish(plt, fig, ax, "Publication timeline per site", "published")


def plot_share_distribution(shares: pd.Series) -> bytes:
    plt, fig, ax = _axes()
    ax.hist(shares.to_numpy(dtype=float), bins=20, range=(0, 1))
    ax.set_ylabel("pages")
    return _finish(
        plt,
        fig,
        ax,
        "Boilerplate share per page (characters)",
        "share of the page's characters that are site boilerplate",
    )


def percent(share: float) -> str:
    return f"{share:.1%}"


def _cells(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell as display text: shares as percentages, nulls as empty cells (pandas' na_rep does
    not reach Arrow-backed nulls, which print as <NA>)."""
    shown = df.astype(object).where(df.notna(), None)
    for c in shown.columns:
        fmt = percent if "share" in c else str
        shown[c] = [("" if v is None else fmt(v)) for v in shown[c]]
    return shown


def _table(df: pd.DataFrame) -> str:
    return _cells(df).to_html(index=False, escape=True, border=0, classes="t")


def run_metadata(out: Path) -> dict[str, str]:
    """When the current version was written, by which pipeline version and settings, and what it
    changed: from its run.json and state meta, else from the documents files' Parquet metadata."""
    files = sorted((out / "documents").glob("*.parquet"))
    kv = (pq.read_schema(files[0]).metadata or {}) if files else {}
    version = current_run(out)
    run = _json(version / "run.json") if version else {}
    state = _json(version / META) if version else {}
    meta: dict[str, str] = {}
    if "written_at" in state:
        meta["run at"] = dt.datetime.fromisoformat(state["written_at"]).strftime("%Y-%m-%d %H:%M:%S %Z")
    if version:
        meta["run id"] = run.get("run_id", version.name)
    meta["pipeline version"] = (
        state.get("pipeline_version") or kv.get(b"sitesift.pipeline_version", b"").decode()
    )
    meta["settings fingerprint"] = (
        run.get("config_fingerprint") or kv.get(b"sitesift.config_fingerprint", b"").decode()
    )
    for key in ("parse_fingerprint", "model_fingerprint"):
        if key in state:
            meta[key.replace("_", " ")] = state[key]
    summary = run.get("summary")
    if summary:
        meta["pages"] = str(summary["pages"])
        meta["inputs"] = (
            f"{summary['inputs']} (new {summary['pages_new']}, changed {summary['pages_changed']}, unchanged "
            f"{summary['pages_unchanged']}, removed {summary['pages_removed']}; parsed {summary['parsed']})"
        )
        meta["sites re-learned"] = ", ".join(summary["sites_rebuilt"]) or "none"
    config = state.get("config") or json.loads(kv.get(b"sitesift.config", b"null"))
    if config:
        meta["settings"] = json.dumps(config, sort_keys=True, indent=2)
    return meta


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _metadata_html(meta: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in meta.items()
        if k != "settings"
    )
    settings = meta.get("settings")
    details = (
        f"<details><summary>all settings</summary><pre>{html.escape(settings, quote=False)}</pre></details>"
        if settings
        else ""
    )
    return f'<table class="t run">{rows}</table>{details}'


def examples(values: pd.Series, n: int = EXAMPLES) -> str:
    """The first `n` values and how many more there are."""
    shown = list(values.head(n))
    more = len(values) - len(shown)
    return ", ".join(shown) + (f", and {more} more" if more else "")


def skipped_summary(skipped: pd.DataFrame, n: int = EXAMPLES) -> pd.DataFrame:
    """One row per reason: how many inputs, the first few of them (by source) and the first one's detail."""
    rows = [
        {
            "reason": reason,
            "inputs": len(g),
            "examples": examples(g.source, n),
            "detail (first)": g.detail.iloc[0],
        }
        for reason, g in skipped.sort_values(["reason", "source"]).groupby("reason", sort=True)
    ]
    return pd.DataFrame(rows, columns=["reason", "inputs", "examples", "detail (first)"])


def changes_section(out: Path, run_id: str | None, n: int = EXAMPLES) -> str:
    """The last run's changes (new, changed, removed pages, ...) as HTML, from the `changes` dataset;
    "" while the output has none. Rows of other runs are left out when the dataset names its run."""
    path = out / CHANGES
    if not path.exists():
        return ""
    changes = pd.read_parquet(path, dtype_backend="pyarrow")
    if run_id is not None and "run_id" in changes.columns:
        changes = changes[changes.run_id == run_id]
    if len(changes) == 0 or "change" not in changes.columns:
        return "<h2>Last run's changes</h2><p>none</p>"
    page = changes.url.fillna(changes.doc_id) if "url" in changes.columns else changes.doc_id
    rows = [
        {"change": change, "pages": len(g), "examples": examples(g.sort_values(), n)}
        for change, g in page.astype(str).groupby(changes.change, sort=True)
    ]
    return f"<h2>Last run's changes</h2>{_table(pd.DataFrame(rows))}"


def summary_rows(summary: dict, out: Path | str) -> list[dict]:
    """The run summary as table rows for the `process` flow's artifact: per site its pages, shares as
    percentages and its documents file, then a row for all sites with the output folder (absolute: the
    Prefect UI is read far from the worker's working folder; a URL as it is)."""
    root = out if isinstance(out, str) else str(out.resolve())

    def count(n: int, of: int) -> str:
        return f"{n} ({percent(n / of)})" if of else str(n)

    rows = []
    for s in summary["sites"]:
        pages = s["pages"]
        rows.append(
            {
                "site": s["site"],
                "pages": pages,
                "boilerplate share": percent(s["boilerplate_share"]),
                "boilerplate clusters": s["boilerplate_clusters"],
                "with title": count(s["with_title"], pages),
                "with published": count(s["with_published"], pages),
                "with updated": count(s["with_updated"], pages),
                "duplicate pages": s.get("duplicate_pages", 0),
                "re-learned": "yes" if s["site"] in summary["sites_rebuilt"] else "no",
                "output": f"{root}/{SiteFiles.of(s['site']).documents}",
            }
        )
    pages = summary["pages"]
    rows.append(
        {
            "site": f"all {len(summary['sites'])} sites",
            "pages": pages,
            "boilerplate share": "",
            "boilerplate clusters": sum(s["boilerplate_clusters"] for s in summary["sites"]),
            "with title": count(sum(s["with_title"] for s in summary["sites"]), pages),
            "with published": count(sum(s["with_published"] for s in summary["sites"]), pages),
            "with updated": count(sum(s["with_updated"] for s in summary["sites"]), pages),
            "duplicate pages": summary["duplicate_pages"],
            "re-learned": str(len(summary["sites_rebuilt"])),
            "output": root,
        }
    )
    return rows


def render_report(out: Path, html_path: Path, top: int = 10) -> Path:
    """Write html_path plus <stem>-timeline.png and <stem>-boilerplate-share.png beside it."""
    data = read_all(out)
    docs, bp, skipped = data["documents"], data["boilerplate"], data["skipped"]
    meta = run_metadata(out)
    stats = site_stats(data)
    timeline = plot_timeline(docs)
    shares = plot_share_distribution(page_boilerplate_share(data))
    html_path.parent.mkdir(parents=True, exist_ok=True)
    (html_path.parent / f"{html_path.stem}-timeline.png").write_bytes(timeline)
    (html_path.parent / f"{html_path.stem}-boilerplate-share.png").write_bytes(shares)

    bp = bp.assign(chars=bp.text.str.len())  # most pages first, then the longest (the most text removed)
    top_clusters = (
        bp.sort_values(["site", "n_pages", "chars", "cluster_id"], ascending=[True, False, False, True])
        .groupby("site")
        .head(top)[["site", "n_pages", "share_of_pages", "n_variants", "text"]]
    )
    top_clusters = top_clusters.assign(text=top_clusters.text.str.slice(0, 160))
    dups = docs[docs.dup_cluster.notna()][["dup_cluster", "site", "title", "source", "duplicate_of"]]
    dups = dups.sort_values(["dup_cluster", "site", "source"])

    def img(png: bytes, alt: str) -> str:
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'

    when = f" (run at {html.escape(meta['run at'])})" if "run at" in meta else ""
    body = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>sitesift report</title>
<style>{STYLE}</style></head><body>
<h1>sitesift report</h1>
<p>{len(docs)} pages from {docs.site.nunique()} site(s) in <code>{html.escape(str(out))}</code>{when};
{len(skipped)} input(s) skipped; {docs.dup_cluster.nunique()} near-duplicate cluster(s).</p>
<h2>Run</h2>{_metadata_html(meta)}
{changes_section(out, meta.get("run id"))}
<h2>Sites</h2>{_table(stats)}
<h2>Publication timeline</h2>{img(timeline, "publication timeline per site")}
<h2>Boilerplate share per page</h2>{img(shares, "distribution of boilerplate share per page")}
<h2>Top boilerplate clusters</h2>{_table(top_clusters)}
<h2>Near-duplicate clusters</h2>{_table(dups) if len(dups) else "<p>none</p>"}
<h2>Skipped inputs</h2>{_table(skipped_summary(skipped)) if len(skipped) else "<p>none</p>"}
</body></html>"""
    html_path.write_text(body, encoding="utf-8")
    return html_path
