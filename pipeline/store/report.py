"""A self-contained HTML report of a run, with two matplotlib plots also saved as PNG beside it.
Reads the published datasets; writes the report files."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from pipeline.store.read import read_all


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


def _table(df: pd.DataFrame) -> str:
    fmt = {c: "{:.1%}".format for c in df.columns if "share" in c}
    return df.to_html(index=False, escape=True, formatters=fmt, na_rep="", border=0, classes="t")


def render_report(out: Path, html_path: Path, top: int = 10) -> Path:
    """Write html_path plus <stem>-timeline.png and <stem>-boilerplate-share.png beside it."""
    data = read_all(out)
    docs, bp, skipped = data["documents"], data["boilerplate"], data["skipped"]
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
    skipped_by_reason = (
        skipped.groupby("reason").size().rename("inputs").reset_index()
        if len(skipped)
        else pd.DataFrame({"reason": [], "inputs": []})
    )

    def img(png: bytes, alt: str) -> str:
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'

    body = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>sitesift report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table.t{{border-collapse:collapse;margin:1em 0}} table.t td,table.t th{{border-bottom:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}} h2{{margin-top:2em}}</style></head><body>
<h1>sitesift report</h1>
<p>{len(docs)} pages from {docs.site.nunique()} site(s) in <code>{html.escape(str(out))}</code>;
{len(skipped)} input(s) skipped; {docs.dup_cluster.nunique()} near-duplicate cluster(s).</p>
<h2>Sites</h2>{_table(stats)}
<h2>Publication timeline</h2>{img(timeline, "publication timeline per site")}
<h2>Boilerplate share per page</h2>{img(shares, "distribution of boilerplate share per page")}
<h2>Top boilerplate clusters</h2>{_table(top_clusters)}
<h2>Near-duplicate clusters</h2>{_table(dups) if len(dups) else "<p>none</p>"}
<h2>Skipped inputs</h2>{_table(skipped_by_reason)}{_table(skipped) if len(skipped) else "<p>none</p>"}
</body></html>"""
    html_path.write_text(body, encoding="utf-8")
    return html_path
