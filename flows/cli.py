"""The `sitesift` command. It runs the Prefect flows, so it lives beside them. What can be checked
without Prefect is checked before it starts (flows.checks): a bad value or path costs milliseconds
and one line, not a traceback after the API's start-up."""

from __future__ import annotations

import os

# Before Prefect is imported: no telemetry (the server's, and the client's with its first-run
# notice), and room for a cold start of the ephemeral API (migrations take 16-19 s on a fresh
# PREFECT_HOME here).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

import atexit
import logging
import shlex
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from flows import api_server, checks
from flows.console import StageBars, Verbosity, err, error, route_prefect_logs, warning
from flows.console import out as console
from flows.signals import Interrupts, end_children, exit_now
from pipeline.config import ExtractConfig
from pipeline.locations import Location, Remote

T = TypeVar("T")
LAYOUT_SAMPLE = ExtractConfig.layout_sample


class _FlagsWithoutMetavar:
    """Flags take no value: no `<bool>` beside them in the help."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Command(_FlagsWithoutMetavar, TyperCommand):
    pass


class Group(_FlagsWithoutMetavar, TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
    help="sitesift: clean, de-boilerplated Parquet datasets from whole websites.",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version() -> str:
    try:
        return package_version("sitesift")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        console.print(f"sitesift {_version()}", highlight=False)
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", help="print the version and exit", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """sitesift: clean, de-boilerplated Parquet datasets from whole websites."""
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help())


class _BadValue(typer.BadParameter):
    """A value the option's type accepts but the command cannot use; keeps the value for the line."""

    def __init__(self, value: object, message: str):
        super().__init__(message)
        self.value = value


def _positive(value: float) -> float:
    if value <= 0:
        raise _BadValue(value, "must be more than 0")
    return value


Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="no progress bars, no log lines: errors and the summary only")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Prefect's INFO lines too (every task run)")]


def _verbosity(quiet: bool, verbose: bool) -> Verbosity:
    if quiet and verbose:
        raise checks.BadInput("--quiet and --verbose exclude each other")
    return Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL


def _capped_workers(workers: int) -> int:
    cpus = checks.usable_cpus()
    if workers > cpus:
        warning(f"--workers {workers} is more than the {cpus} CPUs this process may use: using {cpus}")
        return cpus
    return workers


def _stop_parsers() -> None:
    """End the parser processes (or cancel the Dask tasks) of a run in progress: threads wait on them."""
    parallel = sys.modules.get("pipeline.run.pool")  # not imported yet: no run has started
    if parallel is not None:
        parallel.ParsePool.cancel_all()
    cluster = sys.modules.get("pipeline.run.dask_pool")
    if cluster is not None:
        cluster.DaskPool.cancel_all()


def _api_requests_fail_fast() -> None:
    """Prefect's temporary API server is in the terminal's process group: Ctrl-C ends it too, and
    each request still made (the run's final state, the last logs and events at exit) would be
    retried for a minute. From now on none is retried."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

    os.environ["PREFECT_CLIENT_MAX_RETRIES"] = "0"  # threads without a settings context read it
    current = get_settings_context()
    SettingsContext(
        profile=current.profile,
        settings=current.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0}),
    ).__enter__()  # never left: the process is ending


def _published(out: Location) -> str | None:
    """The run version the datasets under `out` point to (None before the first run)."""
    if isinstance(out, Remote):
        from pipeline.store.objstore import remote_current

        return remote_current(out)
    link = out / "documents"
    return os.readlink(link) if link.is_symlink() else None


def _run_farewell(out: Location, before: str | None) -> Callable[[], str]:
    def farewell() -> str:
        if _published(out) == before:
            return "interrupted: previous dataset kept" if before else "interrupted: no dataset written"
        return "interrupted: the run had published its new dataset"

    return farewell


def _with_progress(verbosity: Verbosity, farewell: Callable[[], str], flow_call: Callable[[], T]) -> T:
    """`flow_call()` (which imports Prefect and runs a flow) under the stage bars and the interrupt
    handling: on Ctrl-C or SIGTERM, one line and exit 130 or 143 (flows.signals)."""
    from flows.progress import cli_display

    interrupts = Interrupts(on_stop=[_stop_parsers, _api_requests_fail_fast], farewell=farewell)
    with interrupts:
        bars = StageBars(verbosity, stopping=lambda: interrupts.triggered, flow_started=interrupts.reclaim)
        token = cli_display.set(bars)
        try:
            with bars:
                route_prefect_logs(verbosity, muted=lambda: interrupts.triggered)
                return flow_call()
        except BaseException:
            if not interrupts.triggered:
                raise
            err.print(farewell(), highlight=False)
            _nothing_more_on_the_terminal()
            exit_now(interrupts.exit_code)
        finally:
            cli_display.reset(token)


def _nothing_more_on_the_terminal() -> None:
    """After the interrupt's line: what is printed while the children end would bury it."""
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def print_summary(summary: dict, out: Location) -> None:
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
    changed = ", ".join(f"{k} {v}" for k, v in sorted(summary.get("changes", {}).items())) or "none"
    console.print(
        f"run {summary.get('run_id', '')}: rows {changed} (`sitesift changes --out {out}` lists the pages)",
        soft_wrap=True,
        markup=False,
    )
    where = f"{out}/_runs/{summary.get('run_id', '')}" if isinstance(out, Remote) else out
    console.print(
        f"datasets written under [bold]{where}[/bold]: documents/, blocks/, boilerplate/, skipped/, changes/",
        soft_wrap=True,
    )
    if isinstance(out, Remote):
        console.print(
            f"current version named by {out}/_runs/current (`from pipeline import read_dataset` follows it)",
            soft_wrap=True,
            markup=False,
        )


def _early_api_server() -> api_server.TemporaryServer | None:
    """Prefect's temporary API server, started now so that it comes up while the run gets ready
    (flows.api_server); None when the user configured an API or Prefect is already in use."""
    if "prefect" in sys.modules or api_server.configured_api_url():
        return None
    server = api_server.TemporaryServer()
    server.start()
    atexit.register(server.stop)  # before Prefect registers its exit handlers: runs after them
    return server


def _process(
    raw: Location,
    out: Location,
    verbosity: Verbosity,
    min_pages: int = 3,
    min_share: float = 0.0,
    trafilatura: bool = True,
    workers: int | None = None,
    page_timeout: float = 60.0,
    layout_sample: int = LAYOUT_SAMPLE,
    dask_address: str | None = None,
    work: Path | None = None,
) -> None:
    """`sitesift run` once its values are checked: the paths, then the flow, then the summary."""
    workers = _capped_workers(checks.usable_cpus() if workers is None else workers)
    try:
        checks.readable_folder(raw, "--raw")
        if not checks.has_pages(raw):
            err.print(f"no pages under {raw}: nothing to do", highlight=False)
            return
        checks.writable_folder(out, "--out")
        if work is not None:
            checks.writable_folder(work, "--work")
    except checks.BadInput as exc:
        error(str(exc))
        raise typer.Exit(2) from exc
    server = _early_api_server()
    if workers > 0 and not dask_address:
        from pipeline.forkserver import start_fork_server

        start_fork_server()  # its imports overlap Prefect's start-up

    def flow_call() -> dict:
        from flows.process import process
        from pipeline.locks import RunLocked

        if server is not None:
            try:
                server.wait_ready(float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
            except api_server.ServerFailed as exc:
                error(str(exc))
                raise typer.Exit(1) from exc
        try:
            return process(
                raw=str(raw),
                out=str(out),
                min_pages=min_pages,
                min_share=min_share,
                use_trafilatura=trafilatura,
                workers=workers,
                page_timeout=page_timeout,
                layout_sample=layout_sample,
                dask_address=dask_address,
                work=str(work) if work is not None else None,
            )
        except RunLocked as exc:
            error(str(exc))
            raise typer.Exit(3) from exc

    summary = _with_progress(verbosity, _run_farewell(out, _published(out)), flow_call)
    print_summary(summary, out)


@app.command(cls=Command)
def run(
    raw: Annotated[
        str,
        typer.Option(help="folder of raw pages, raw/<site>/**, or a URL (s3://bucket/raw, gs://, file://)"),
    ] = "raw",
    out: Annotated[
        str, typer.Option(help="folder or URL (s3://bucket/out) for the Parquet datasets")
    ] = "processed",
    min_pages: Annotated[
        int, typer.Option(min=1, help="a block repeated on this many pages of a site is boilerplate")
    ] = 3,
    min_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="...and on at least this share of the site's pages")
    ] = 0.0,
    trafilatura: Annotated[
        bool, typer.Option(help="use trafilatura's main-content extraction on HTML")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="parser processes (0: parse in this process, no time limit); at most the CPUs "
            "this process may use",
        ),
    ] = checks.usable_cpus(),
    page_timeout: Annotated[
        float,
        typer.Option(callback=_positive, help="seconds one page may take to parse before it is skipped"),
    ] = 60.0,
    layout_sample: Annotated[
        int,
        typer.Option(
            min=0,
            help="per site, trafilatura runs on every page below 4x this many pages, "
            "above on a 2-4x sample that teaches the rest (0: every page)",
        ),
    ] = LAYOUT_SAMPLE,
    dask_address: Annotated[
        str | None, typer.Option(help="tcp://HOST:PORT of a Dask scheduler to parse and build sites on")
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(help="local work folder of a remote --out (default: a cache folder per URL)"),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Process raw pages into documents/, blocks/, boilerplate/ and skipped/ Parquet datasets."""
    try:
        verbosity = _verbosity(quiet, verbose)
        raw_root, out_root = checks.location_of(raw, "--raw"), checks.location_of(out, "--out")
    except checks.BadInput as exc:
        error(str(exc))
        raise typer.Exit(2) from exc
    _process(
        raw_root,
        out_root,
        verbosity,
        min_pages=min_pages,
        min_share=min_share,
        trafilatura=trafilatura,
        workers=workers,
        page_timeout=page_timeout,
        layout_sample=layout_sample,
        dask_address=dask_address,
        work=work,
    )


@app.command(cls=Command)
def crawl(
    urls: Annotated[
        list[str] | None, typer.Argument(help="seed URLs (http or https); each URL's host is crawled")
    ] = None,
    sitemap: Annotated[
        list[str] | None,
        typer.Option(help="sitemap URL (repeatable); robots.txt Sitemap: lines are read too"),
    ] = None,
    feed: Annotated[list[str] | None, typer.Option(help="RSS or Atom feed URL (repeatable)")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input-file", "-i", help="file of seed URLs, one a line ('#' comments)")
    ] = None,
    raw: Annotated[Path, typer.Option(help="where WARC files go: <raw>/<host>/")] = Path("raw"),
    out: Annotated[Path, typer.Option(help="where the crawl log goes: <out>/crawl_log/")] = Path("processed"),
    max_pages: Annotated[int, typer.Option(min=1, help="pages stored or checked per host")] = 500,
    max_depth: Annotated[int, typer.Option(min=0, help="link hops from a seed")] = 5,
    delay: Annotated[
        float,
        typer.Option(min=0.0, help="seconds between requests to one host (robots Crawl-delay if larger)"),
    ] = 1.0,
    include: Annotated[
        list[str] | None, typer.Option(help="only URLs matching this regex (repeatable)")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="never URLs matching this regex (repeatable)")
    ] = None,
    user_agent: Annotated[str | None, typer.Option(help="User-Agent, with a contact URL")] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option(help="host or host:port allowed although private/loopback")
    ] = None,
    process_after: Annotated[
        bool, typer.Option("--process", help="run `sitesift run` on raw/ afterwards")
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Crawl sites politely into raw/<host>/ as WARC files, with a crawl log; `sitesift run` then
    processes them."""
    from rich.markup import escape

    from pipeline.acquire.errors import RefusedURL
    from pipeline.acquire.urls import normalise, read_url_list

    urls, sitemap, feed = urls or [], sitemap or [], feed or []
    if input_file is not None:
        try:
            urls += read_url_list(input_file)
        except (OSError, ValueError) as exc:
            error(f"--input-file: {escape(str(exc))}")
            raise typer.Exit(2) from exc
    if not (urls or sitemap or feed):
        error("give at least one seed URL, --input-file, --sitemap or --feed")
        raise typer.Exit(2)
    try:
        verbosity = _verbosity(quiet, verbose)
        if not (urls or sitemap or feed):
            raise checks.BadInput("give at least one seed URL, --sitemap or --feed")
        for u in urls + sitemap + feed:
            try:
                normalise(u)
            except RefusedURL as exc:
                raise checks.BadInput(str(exc)) from exc
        checks.writable_folder(raw, "--raw")
        checks.writable_folder(out, "--out")
    except checks.BadInput as exc:
        error(str(exc))
        raise typer.Exit(2) from exc

    def flow_call() -> list[dict]:
        from flows.crawl import crawl as crawl_flow

        return crawl_flow(  # type: ignore[return-value]  # a failed crawl raises, it returns no State
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

    from pipeline.acquire.errors import CrawlFailed
    from pipeline.acquire.host_lock import HostLocked

    try:
        rows = _with_progress(
            verbosity,
            lambda: f"interrupted: what was fetched is kept in {raw}/ (completed on the next crawl)",
            flow_call,
        )
    except (CrawlFailed, HostLocked) as exc:
        error(f"{escape(str(exc))}")
        raise typer.Exit(3 if isinstance(exc, HostLocked) else 1) from exc
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
        _process(raw, out, verbosity)


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
        error(str(exc))
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
        error(str(exc.args[0]))
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
        error(f"{exc.args[0]}")
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
    out: Annotated[
        str, typer.Option(help="output folder to tidy, or its URL (s3://bucket/out)")
    ] = "processed",
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
    from pipeline.store.remote_gc import collect_remote

    try:
        where = checks.location_of(out, "--out")
        if isinstance(where, Remote):
            report = collect_remote(where, keep=keep, all_cache=cache, dry_run=dry_run)
        else:
            report = collect(where, keep=keep, all_cache=cache, dry_run=dry_run)
    except checks.BadInput as exc:
        error(str(exc))
        raise typer.Exit(2) from exc
    except (ValueError, FileNotFoundError, ImportError) as exc:
        error(f"{exc}")
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
        error(str(exc))
        raise typer.Exit(2) from exc
    where = err if done.path == STDOUT else console
    where.print(f"exported {done.pages} pages as {fmt} to {done.path}", highlight=False, markup=False)


def _given_value(exc: typer.BadParameter) -> str | None:
    """The value the user typed for the option, when the error kept it (ours, or pydantic's)."""
    if isinstance(exc, _BadValue):
        return shlex.quote(f"{exc.value:g}" if isinstance(exc.value, float) else str(exc.value))
    errors = getattr(exc.__cause__, "errors", None)
    if callable(errors):
        first = (errors() or [{}])[0]
        if "input" in first:
            return shlex.quote(str(first["input"]))
    return None


def _one_line(exc: typer.TyperException) -> str:
    """A command-line error as one line naming the option and the value given."""
    param = getattr(exc, "param", None)
    if isinstance(exc, typer.BadParameter) and param is not None and getattr(param, "opts", None):
        option = max(param.opts, key=len)
        value = _given_value(exc)
        return f"{option} {value}: {exc.message}" if value is not None else f"{option}: {exc.message}"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return " ".join(message.split())


def _exit_without_teardown(code: list[int]) -> None:
    """The last exit handler: once every other one has run (Prefect's last logs and events sent,
    the children ended), the process ends without tearing down its modules one by one (2-7 s for
    Prefect, pandas and pyarrow on a busy 2-core machine). Only on an exit whose code is known."""
    if code:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code[0])


def cli() -> None:
    """The console script: typer's parsing, with each command-line error as one line, exit 2.
    Registered first, the last exit handlers end any child process Prefect's own handlers left
    (its temporary API server, when the process ends on an error in the middle of them), then the
    process."""
    exit_code: list[int] = []
    atexit.register(_exit_without_teardown, exit_code)
    atexit.register(end_children)
    try:
        code = app(standalone_mode=False, prog_name="sitesift")
    except typer.TyperException as exc:
        error(_one_line(exc))
        code = exc.exit_code
    except typer.Abort:
        code = 1
    exit_code.append(code if isinstance(code, int) else 0)
    sys.exit(exit_code[0])


if __name__ == "__main__":
    cli()
