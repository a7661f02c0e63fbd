"""The `sitesift` command. It runs the Prefect flows, so it lives beside them."""

from __future__ import annotations

import os

# Before Prefect is imported: no telemetry on machines without internet, and room for a cold start
# of the ephemeral API (migrations take 16-19 s on a fresh PREFECT_HOME here).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.config import ExtractConfig

app = typer.Typer(
    help="sitesift: clean, de-boilerplated Parquet datasets from whole websites.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


@app.callback()
def main() -> None:
    """sitesift: clean, de-boilerplated Parquet datasets from whole websites."""


def print_summary(summary: dict, out: Path) -> None:
    table = Table(title="sitesift run")
    for col in ("site", "pages", "boilerplate share", "clusters", "titles", "published", "updated"):
        table.add_column(col, justify="left" if col == "site" else "right")
    for s in summary["sites"]:
        table.add_row(
            s["site"],
            str(s["pages"]),
            f"{s['boilerplate_share']:.1%}",
            str(s["boilerplate_clusters"]),
            str(s["with_title"]),
            str(s["with_published"]),
            str(s["with_updated"]),
        )
    console.print(table)
    reasons = ", ".join(f"{k}: {v}" for k, v in summary["skipped_by_reason"].items()) or "none"
    console.print(
        f"inputs {summary['inputs']} · pages {summary['pages']} · skipped {summary['skipped']} ({reasons})"
        f" · near-duplicate clusters {summary['duplicate_clusters']}"
        f" ({summary['duplicate_pages']} duplicate pages)",
        soft_wrap=True,
    )
    rebuilt = ", ".join(summary["sites_rebuilt"]) or "none"
    console.print(
        f"pages new {summary['pages_new']} · changed {summary['pages_changed']} · unchanged "
        f"{summary['pages_unchanged']} · removed {summary['pages_removed']} · parsed {summary['parsed']}"
        f" · sites re-learned: {rebuilt}",
        soft_wrap=True,
    )
    console.print(f"datasets written under [bold]{out}[/bold]: documents/, blocks/, boilerplate/, skipped/")


@app.command()
def run(
    raw: Annotated[Path, typer.Option(help="folder of raw pages: raw/<site>/**")] = Path("raw"),
    out: Annotated[Path, typer.Option(help="folder for the Parquet datasets")] = Path("processed"),
    min_pages: Annotated[
        int, typer.Option(help="a block repeated on this many pages of a site is boilerplate")
    ] = 3,
    min_share: Annotated[float, typer.Option(help="...and on at least this share of the site's pages")] = 0.0,
    trafilatura: Annotated[
        bool, typer.Option(help="use trafilatura's main-content extraction on HTML")
    ] = True,
    workers: Annotated[
        int, typer.Option(help="parser processes (0: parse in this process, no time limit)")
    ] = 2,
    page_timeout: Annotated[
        float, typer.Option(help="seconds one page may take to parse before it is skipped")
    ] = 60.0,
    layout_sample: Annotated[
        int,
        typer.Option(
            help="per site, trafilatura runs on every page below 4x this many pages, "
            "above on a 2-4x sample that teaches the rest (0: every page)"
        ),
    ] = ExtractConfig.layout_sample,
    dask_address: Annotated[
        str, typer.Option(help="tcp://HOST:PORT of a Dask scheduler to run the per-site work on")
    ] = None,
) -> None:
    """Process raw pages into documents/, blocks/, boilerplate/ and skipped/ Parquet datasets."""
    if not raw.is_dir():
        errors.print(f"[red]error:[/red] raw folder {raw} does not exist")
        raise typer.Exit(2)
    if min_pages < 1 or not 0.0 <= min_share <= 1.0 or workers < 0 or page_timeout <= 0 or layout_sample < 0:
        errors.print(
            "[red]error:[/red] --min-pages must be >= 1, --min-share within 0..1, --workers >= 0, "
            "--page-timeout > 0 and --layout-sample >= 0"
        )
        raise typer.Exit(2)
    if workers > 0:
        from pipeline.forkserver import start_fork_server

        start_fork_server()  # its imports overlap Prefect's start-up
    from flows.process import process
    from flows.progress import cli_progress
    from pipeline.locks import RunLocked

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task_id = progress.add_task("starting Prefect", total=None)
        token = cli_progress.set((progress, task_id))
        try:
            summary = process(
                raw=str(raw),
                out=str(out),
                min_pages=min_pages,
                min_share=min_share,
                use_trafilatura=trafilatura,
                workers=workers,
                page_timeout=page_timeout,
                layout_sample=layout_sample,
                dask_address=dask_address,
            )
        except RunLocked as exc:
            errors.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(3) from exc
        finally:
            cli_progress.reset(token)
    print_summary(summary, out)


@app.command()
def crawl(
    urls: Annotated[
        list[str], typer.Argument(help="seed URLs (http or https); each URL's host is crawled")
    ] = None,
    sitemap: Annotated[
        list[str], typer.Option(help="sitemap URL (repeatable); robots.txt Sitemap: lines are read too")
    ] = None,
    feed: Annotated[list[str], typer.Option(help="RSS or Atom feed URL (repeatable)")] = None,
    input_file: Annotated[
        Path, typer.Option("--input-file", "-i", help="file of seed URLs, one a line ('#' comments)")
    ] = None,
    raw: Annotated[Path, typer.Option(help="where WARC files go: <raw>/<host>/")] = Path("raw"),
    out: Annotated[Path, typer.Option(help="where the crawl log goes: <out>/crawl_log/")] = Path("processed"),
    max_pages: Annotated[int, typer.Option(help="pages stored or checked per host")] = 500,
    max_depth: Annotated[int, typer.Option(help="link hops from a seed")] = 5,
    delay: Annotated[
        float, typer.Option(help="seconds between requests to one host (robots Crawl-delay if larger)")
    ] = 1.0,
    include: Annotated[list[str], typer.Option(help="only URLs matching this regex (repeatable)")] = None,
    exclude: Annotated[list[str], typer.Option(help="never URLs matching this regex (repeatable)")] = None,
    user_agent: Annotated[str, typer.Option(help="User-Agent, with a contact URL")] = None,
    allow_host: Annotated[
        list[str], typer.Option(help="host or host:port allowed although private/loopback")
    ] = None,
    process_after: Annotated[
        bool, typer.Option("--process", help="run `sitesift run` on raw/ afterwards")
    ] = False,
) -> None:
    """Crawl sites politely into raw/<host>/ as WARC files, with a crawl log; `sitesift run` then processes them."""
    from rich.markup import escape

    from pipeline.acquire.errors import RefusedURL
    from pipeline.acquire.urls import normalise, read_url_list

    urls, sitemap, feed = urls or [], sitemap or [], feed or []
    if input_file is not None:
        try:
            urls += read_url_list(input_file)
        except (OSError, ValueError) as exc:
            errors.print(f"[red]error:[/red] --input-file: {escape(str(exc))}")
            raise typer.Exit(2) from exc
    if not (urls or sitemap or feed):
        errors.print("[red]error:[/red] give at least one seed URL, --input-file, --sitemap or --feed")
        raise typer.Exit(2)
    try:
        for u in urls + sitemap + feed:
            normalise(u)
    except RefusedURL as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if max_pages < 1 or max_depth < 0 or delay < 0:
        errors.print("[red]error:[/red] --max-pages must be >= 1, --max-depth and --delay >= 0")
        raise typer.Exit(2)
    from flows.crawl import crawl as crawl_flow
    from flows.progress import cli_progress
    from pipeline.acquire.errors import CrawlFailed
    from pipeline.acquire.host_lock import HostLocked

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        token = cli_progress.set((progress, progress.add_task("crawl", total=None, visible=False)))
        try:
            rows = crawl_flow(
                urls=urls,
                sitemaps=sitemap,
                feeds=feed,
                raw=str(raw),
                out=str(out),
                max_pages=max_pages,
                max_depth=max_depth,
                delay=delay,
                include=include or [],
                exclude=exclude or [],
                user_agent=user_agent,
                allow_hosts=allow_host or [],
            )
        except (CrawlFailed, HostLocked) as exc:
            errors.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(3 if isinstance(exc, HostLocked) else 1) from exc
        finally:
            cli_progress.reset(token)
    table = Table(title="sitesift crawl")
    for col in (
        "host",
        "stored",
        "unchanged (304)",
        "skipped",
        "failed",
        "refused",
        "disallowed",
        "bytes",
        "retries",
        "status codes",
        "reasons",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[c.header]) for c in table.columns))
    console.print(table)
    console.print(f"WARC files under [bold]{raw}[/bold]/<host>/, crawl log in [bold]{out}/crawl_log/[/bold]")
    if process_after:
        run(raw=raw, out=out)


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="folder holding the Parquet datasets")] = Path("processed"),
    html: Annotated[Path, typer.Option(help="where to write the HTML report")] = Path("report.html"),
) -> None:
    """Write a self-contained HTML report of the last run (plus its two plots as PNG beside it)."""
    from pipeline.store.report import render_report

    try:
        path = render_report(out, html)
    except FileNotFoundError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(
        f"report written to [bold]{path}[/bold] (plots: {path.stem}-timeline.png, "
        f"{path.stem}-boilerplate-share.png)"
    )


@app.command()
def show(
    doc_id: Annotated[str, typer.Argument(help="a doc_id (or a unique prefix of one)")],
    out: Annotated[Path, typer.Option(help="folder holding the Parquet datasets")] = Path("processed"),
) -> None:
    """Print one page as the pipeline saw it: every block, the removed ones marked with the reason."""
    from rich.markup import escape

    from pipeline.store.read import page_view

    try:
        doc, blocks = page_view(out, doc_id)
    except (KeyError, FileNotFoundError) as exc:
        errors.print(f"[red]error:[/red] {exc.args[0]}")
        raise typer.Exit(2) from exc
    console.print(f"[bold]{escape(str(doc['title']))}[/bold]  ({doc['doc_id']}, site {doc['site']})")
    console.print(f"source: {escape(doc['source'])}   url: {escape(str(doc['url'] or '-'))}")
    for role in ("published", "updated"):
        value = doc[role]
        shown = f"{value} (from {doc[role + '_source']})" if value is not None and value == value else "-"
        console.print(f"{role}: {shown}")
    console.print(
        f"blocks: {len(blocks)}, boilerplate: {int(blocks.is_boilerplate.sum())}, "
        f"duplicate of: {doc['duplicate_of'] or '-'}\n"
    )
    for b in blocks.itertuples():
        text = escape(b.text if len(b.text) <= 300 else b.text[:300] + "…")
        removed = b.removed_by if isinstance(b.removed_by, str) else None
        if removed:
            console.print(f"[dim]  - REMOVED ({removed}) {b.kind}: {text}[/dim]", soft_wrap=True)
        else:
            console.print(f"  + {b.kind}: {text}", soft_wrap=True)


@app.command()
def changes(
    out: Annotated[Path, typer.Option(help="folder holding the Parquet datasets")] = Path("processed"),
    since: Annotated[
        str | None, typer.Option(help="only runs after this run id (or a prefix of one)")
    ] = None,
    limit: Annotated[int, typer.Option(help="rows to print at most (0: all)")] = 50,
) -> None:
    """Print which pages each run added, changed, removed or wrote again (the `changes` dataset)."""
    from rich.markup import escape

    from pipeline.store.read import read_changes

    try:
        rows = read_changes(out, since)
    except (KeyError, FileNotFoundError) as exc:
        errors.print(f"[red]error:[/red] {exc.args[0]}")
        raise typer.Exit(2) from exc
    table = Table("run", "change", "site", "page")
    shown = rows if limit <= 0 else rows.head(limit)
    for r in shown.itertuples():
        table.add_row(
            r.run_id, r.change, escape(r.site), escape(str(r.url) if isinstance(r.url, str) else r.source)
        )
    console.print(table)
    by_run = rows.groupby(["run_id", "change"]).size()
    for (run, change), n in by_run.items():
        console.print(f"{run}: {change} {n}")
    if len(shown) < len(rows):
        console.print(f"({len(rows) - len(shown)} more rows: --limit 0 prints all)")


@app.command("gc")
def gc_command(
    out: Annotated[Path, typer.Option(help="output folder to tidy")] = Path("processed"),
    keep: Annotated[
        int, typer.Option(help="run versions kept, newest first (the current and the previous always stay)")
    ] = 2,
    cache: Annotated[
        bool, typer.Option("--cache", help="empty the whole task cache, not only entries past its life")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only say what would go and what it frees")
    ] = False,
) -> None:
    """Remove old run versions, staging of dead runs and expired task-cache entries; prints what it frees."""
    from pipeline.store.gc import collect, describe

    try:
        report = collect(out, keep=keep, all_cache=cache, dry_run=dry_run)
    except (ValueError, FileNotFoundError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    for line in describe(report):
        console.print(line, soft_wrap=True, highlight=False, markup=False)


@app.command("export")
def export_command(
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="jsonl|csv|markdown", help="one JSON record a line, CSV, or a file a page"
        ),
    ] = "jsonl",
    out: Annotated[Path, typer.Option(help="folder holding the Parquet datasets")] = Path("processed"),
    to: Annotated[
        Path | None,
        typer.Option(
            help="file, or folder for it (jsonl, csv; '-': standard output), or folder of Markdown files "
            "[default: documents.jsonl, documents.csv, documents-md/]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export the documents dataset, every column included: JSON Lines, CSV or one Markdown file per page."""
    from pipeline.store.export import STDOUT, export_documents

    try:
        done = export_documents(out, fmt, to)
    except (ValueError, FileNotFoundError) as exc:
        errors.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    where = errors if done.path == STDOUT else console
    where.print(f"exported {done.pages} pages as {fmt} to {done.path}", highlight=False, markup=False)


if __name__ == "__main__":
    app()
