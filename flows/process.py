"""Prefect flow `process`: raw pages -> site boilerplate stripped -> titles and dates -> Parquet.

Only wiring: the same steps as pipeline.run.run_incremental (plan and parse, sites, near-duplicates,
publish), with parsing as cached tasks and the site builds as one task; both run on the executor
chosen once (local parser processes, or a Dask cluster when asked).
Tasks take plain values and records, never a run object.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.filesystems import RemoteFileSystem

from flows.progress import ChunkProgress, ParseProgress, RunProgress
from flows.signals import deferred_interrupts
from pipeline.acquire.files import list_relative
from pipeline.acquire.load import content_hash
from pipeline.config import PIPELINE_VERSION, BoilerplateConfig, ExtractConfig, PipelineConfig, ResourceLimits
from pipeline.locations import location
from pipeline.locks import RunLock
from pipeline.records import RawInput, RunSummary
from pipeline.run import check_raw
from pipeline.run.dedup import NearDuplicates, near_duplicates
from pipeline.run.executor import Executor, open_executor
from pipeline.run.folders import RunFolders, parse_folders
from pipeline.run.parse import SubmitFn
from pipeline.run.plan import FolderPlan, folder_of_path
from pipeline.run.previous import PreviousRun
from pipeline.run.publish import publish, run_summary
from pipeline.run.remote_sites import SitesOnStore, build_run_sites, sites_on_store
from pipeline.run.site_job import SiteBuilt, SiteJob
from pipeline.run.sites import plan_sites
from pipeline.store.gc import TASK_CACHE_DIR
from pipeline.store.objstore import InStore, RunOutput
from pipeline.store.parquet import StagedVersion, Staging
from pipeline.store.report import summary_rows
from pipeline.store.state import ParsedTables


def parse_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """Same page bytes + same parse settings = same parse, whatever run or path asks."""
    cfg: PipelineConfig = parameters["cfg"]
    h = hashlib.sha256(cfg.parse_fingerprint(PIPELINE_VERSION).encode())
    for raw in parameters["batch"]:
        h.update(
            f"{raw.site_hint}\0{raw.identity}\0{raw.source}\0{content_hash(raw.data)}\0{raw.in_sample}\n".encode()
        )
    return "parse-tables-" + h.hexdigest()


@task(
    name="parse-pages",
    cache_key_fn=parse_cache_key,
    cache_expiration=dt.timedelta(days=ResourceLimits.task_cache_days),
    persist_result=True,
    cache_result_in_memory=False,
)
def parse_pages(
    batch: list[RawInput], cfg: PipelineConfig, pool: Executor, progress: ChunkProgress
) -> ParsedTables:
    """Parse a chunk of pages (up to ResourceLimits.parse_chunk) on the run's executor (local worker
    processes with a per-page time limit, or a Dask cluster), reporting progress as they go; cached on
    content hashes. One task per chunk: smaller tasks left the workers idle while Prefect recorded each
    one (the CLI ran at half the library's speed).
    Not kept in memory once persisted: Prefect's in-memory result cache (1,000 results) held every
    chunk's tables for the whole run, 4.6 GB at 100,000 pages instead of the library's 2.2 GB."""
    return pool.parse(batch, cfg, on_parsed=progress.advance)


@task(name="build-sites", cache_policy=NO_CACHE)
def build_sites_task(
    jobs: list[SiteJob],
    pool: Executor,
    version: StagedVersion,
    on_store: SitesOnStore | None,
    progress: RunProgress,
) -> tuple[list[SiteBuilt], InStore]:
    """Every site, on the run's executor: its workers when several need re-learning or on a Dask
    cluster (through the store when the output is remote), else this process."""
    stage = progress.stage("build sites", total=len(jobs))
    built = build_run_sites(jobs, pool, version, on_store, on_built=lambda site: stage.advance())
    stage.finish()
    return built


@task(name="near-duplicates", cache_policy=NO_CACHE)
def dedup_task(
    built: list[SiteBuilt], version: StagedVersion, cfg: PipelineConfig, run_id: str
) -> NearDuplicates:
    return near_duplicates(built, version, cfg, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    staging: Staging, folders: RunFolders, summary: RunSummary, cfg: PipelineConfig, now: dt.datetime
) -> dict:
    with deferred_interrupts():  # a Ctrl-C waits until the new version is in place, or not at all
        return publish(staging, folders, summary, cfg, now)


def task_cache_storage(output: RunOutput) -> Path | RemoteFileSystem:
    """Prefect's persisted parses sit beside the output: on a store, so a run that died after parsing
    and is started again elsewhere (another machine, an empty work folder) parses nothing again.
    Prefect takes only a block saved on its API as a task's storage: one per output URL, named by it."""
    if output.remote is None:
        return (output.folder / TASK_CACHE_DIR).resolve()
    where = output.remote.child(TASK_CACHE_DIR).url
    storage = RemoteFileSystem(basepath=where)
    storage.save(f"sitesift-task-cache-{hashlib.sha1(where.encode()).hexdigest()[:16]}", overwrite=True)
    return storage


def make_config(
    min_pages: int,
    min_share: float,
    use_trafilatura: bool,
    page_timeout: float,
    layout_sample: int = ExtractConfig.layout_sample,
) -> PipelineConfig:
    return PipelineConfig(
        boilerplate=BoilerplateConfig(min_pages=min_pages, min_share=min_share),
        extract=ExtractConfig(
            use_trafilatura=use_trafilatura, page_timeout=page_timeout, layout_sample=layout_sample
        ),
    )


def parse_submitter(cfg: PipelineConfig, cached_parse, pool: Executor, progress: ParseProgress) -> SubmitFn:
    """parse_folders' `submit` through the cached parse task: the task is submitted to the flow's
    task runner (a thread), so the next folder's first chunk is queued while a folder finishes."""

    def submit(inputs: list[RawInput]) -> Callable[[], ParsedTables]:
        chunk = ChunkProgress(progress.parsing, progress.submitted(inputs))
        future = cached_parse.submit(inputs, cfg, pool, chunk)

        def tables() -> ParsedTables:
            parsed = future.result()
            chunk.finish()
            return parsed

        return tables

    return submit


@flow(name="process", log_prints=True)
def process(
    raw: str = "raw",
    out: str = "processed",
    min_pages: int = BoilerplateConfig.min_pages,
    min_share: float = BoilerplateConfig.min_share,
    use_trafilatura: bool = ExtractConfig.use_trafilatura,
    workers: int = 2,
    page_timeout: float = ExtractConfig.page_timeout,
    layout_sample: int = ExtractConfig.layout_sample,
    dask_address: str | None = None,
    work: str | None = None,
) -> dict:
    """Process the pages under `raw` into the Parquet datasets under `out`, incrementally: only new
    and changed pages are parsed (on `workers` processes, each page within `page_timeout` seconds),
    only changed sites re-learned; in a site of 4 x `layout_sample` pages or more, trafilatura runs on
    a 2-4 x `layout_sample` sample and the rest take the layout learned from it. `raw` and `out` are
    folders or fsspec URLs (s3://bucket/raw); a remote `out` is written in the local folder `work`
    (default: a cache folder per URL), then published to the store. With `dask_address` (tcp://host:port
    of a running Dask scheduler), parsing and the site builds run on that cluster (with a local `out`,
    its workers must see it; with a remote one, only the store). Returns the run summary."""
    logger = get_run_logger()
    cfg, limits = (
        make_config(min_pages, min_share, use_trafilatura, page_timeout, layout_sample),
        ResourceLimits(),
    )
    raw_root, output = location(raw), RunOutput.of(location(out), Path(work) if work else None)
    check_raw(raw_root)
    cached_parse = parse_pages.with_options(result_storage=task_cache_storage(output))
    with RunLock(output.folder), open_executor(workers, limits, dask_address) as pool:
        output.pull()
        staging, now = Staging(output.folder, cfg), dt.datetime.now(dt.UTC)
        previous = PreviousRun.read(staging, cfg)
        files_per_folder = Counter(folder_of_path(rel) for rel in list_relative(raw_root))
        progress = RunProgress(("list", "parse", "build sites", "publish"), "sitesift run")
        progress.start()
        parse_progress = ParseProgress(progress, files_per_folder)

        def folder_done(plan: FolderPlan) -> None:
            parse_progress.folder_done(plan.folder)
            logger.info(
                "%s: %d new, %d changed, %d unchanged, %d removed",
                plan.folder,
                plan.counts["new"],
                plan.counts["changed"],
                plan.counts["unchanged"],
                plan.removed,
            )

        submit = parse_submitter(cfg, cached_parse, pool, parse_progress)
        folders = parse_folders(
            raw_root,
            staging,
            previous,
            cfg,
            limits,
            submit,
            on_folder=folder_done,
            on_listed=lambda plan: parse_progress.listed(plan.folder, plan.to_parse),
        )
        parse_progress.finish()
        jobs = plan_sites(folders, previous, staging.view(), cfg, limits, now, staging.run_id, raw_root)
        on_store = sites_on_store(output, dask_address, staging.run_id)
        built, in_store = build_sites_task(jobs, pool, staging, on_store, progress)
        publishing = progress.stage("publish", total=2)  # near-duplicates, then the switch
        dups = dedup_task(built, staging.view(), cfg, staging.run_id)
        publishing.advance()
        summary = publish_task(staging, folders, run_summary(folders, built, dups), cfg, now)
        output.push(cfg.store.keep_superseded_s, in_store)  # a remote output: the upload, then the switch
        publishing.advance()
    create_table_artifact(
        summary_rows(summary, str(output.remote) if output.remote else output.folder),
        key="sitesift-process-summary",
        description=f"pages {summary['pages']} (new {summary['pages_new']}, "
        f"changed {summary['pages_changed']}, unchanged {summary['pages_unchanged']}, "
        f"removed {summary['pages_removed']}), parsed {summary['parsed']}, "
        f"skipped {summary['skipped']} {summary['skipped_by_reason']}, "
        f"duplicate clusters {summary['duplicate_clusters']}",
    )
    logger.info(
        "run done: %s pages, %s parsed, sites rebuilt: %s",
        summary["pages"],
        summary["parsed"],
        ", ".join(summary["sites_rebuilt"]) or "none",
    )
    return summary
