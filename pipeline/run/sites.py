"""Step 3, sites: for every site, decide in one place whether last run's files are reused, new pages
appended to its model, or the site re-learned from all its pages, then build it. A build touches
only the site's own files, so sites can be built side by side (worker processes, Dask). Touches disk
(the site's files in the staged version)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.clean.neardup import DocKey
from pipeline.clean.site import finish_pages, learn_site
from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.locations import Location
from pipeline.memory import arrow_returns_memory, gc_paused, give_back_freed_memory
from pipeline.records import SiteSummary
from pipeline.run.append import append_pages
from pipeline.run.date_fallback import htmldate_again
from pipeline.run.executor import Executor
from pipeline.run.folders import RunFolders
from pipeline.run.previous import PreviousRun
from pipeline.run.site_job import APPENDED, REBUILT, REUSED, SiteBuilt, SiteJob
from pipeline.run.site_state import DocIndexer, write_clusters_and_stats, write_layout, write_texts
from pipeline.schemas import STATS_STATE
from pipeline.store import state
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import SiteFiles, folder_blocks, folder_pages
from pipeline.store.tables import (
    blocks_table,
    boilerplate_table,
    documents_table,
    summary_counts,
    summary_from_counts,
)


def site_mode(
    site: str, folders: RunFolders, previous: PreviousRun, version: StagedVersion, cfg: PipelineConfig
) -> str:
    """The one reuse / append / re-learn decision. A site is reused when the last run built it under
    the same model settings and none of its pages changed; new pages are appended when only pages
    were added (none changed, removed or moved in or out of the layout sample) and they fit the
    append budget; anything else re-learns the site."""
    known = (
        previous.model_ok
        and site in previous.sites
        and all(version.previous_path(f) for f in SiteFiles.of(site).all())
    )
    if not known:
        return REBUILT
    if site not in folders.changed_sites:
        return REUSED
    if site not in folders.modified_sites and folders.new_pages.get(site) and cfg.boilerplate.by_region:
        return APPENDED
    return REBUILT


def plan_sites(
    folders: RunFolders,
    previous: PreviousRun,
    version: StagedVersion,
    cfg: PipelineConfig,
    limits: ResourceLimits,
    now: dt.datetime,
    run_id: str,
    raw: Location | None = None,
) -> list[SiteJob]:
    """One SiteJob per site of the run, in site order: plain values, so a job can run anywhere."""
    jobs = []
    for site in folders.sites():
        mode = site_mode(site, folders, previous, version, cfg)
        prev = previous.sites.get(site)
        jobs.append(
            SiteJob(
                site=site,
                cfg=cfg,
                limits=limits,
                version=version,
                folders=tuple(sorted(folders.site_folders[site])),
                mode=mode,
                model_ok=previous.model_ok,
                prev_summary=SiteSummary(**prev) if prev else None,
                now=now,
                run_id=run_id,
                new_pages=tuple(folders.new_pages.get(site, ())) if mode == APPENDED else (),
                raw=raw,
            )
        )
    return jobs


def build_site_job(job: SiteJob) -> SiteBuilt:
    """Build one site as its job says; an append that would change an old page falls back to a
    re-learn."""
    arrow_returns_memory()
    with gc_paused():
        if job.mode == REUSED:
            return _reuse(job)
        if job.mode == APPENDED and (appended := append_pages(job)) is not None:
            return appended
        return _rebuild(job)


def build_sites(
    jobs: list[SiteJob],
    pool: Executor,
    on_built: Callable[[str], None] | None = None,
    remote_build: Callable[[SiteJob], SiteBuilt] | None = None,
) -> list[SiteBuilt]:
    """Every site of the run: in this process when the executor says so (local processes and at most
    one site to re-learn: the parser workers are ended first, so their memory is back before a large
    site is learned here), else side by side on its workers (processes, or a Dask cluster).
    `on_built(site)` hears of each (progress). `remote_build` replaces build_site_job on the workers
    when they do not share this disk (remote_sites.py); a reused site is then linked here."""
    built_one = on_built or (lambda site: None)
    heavy = [j for j in jobs if j.mode != REUSED]
    if pool.builds_here(len(heavy)):
        pool.stop_workers()
        built = []
        for job in jobs:
            built.append(build_site_job(job))
            built_one(job.site)
        return built

    def build(job: SiteJob) -> SiteBuilt:
        if remote_build is None:
            site = pool.call(build_site_job, job)
        else:
            site = build_site_job(job) if job.mode == REUSED else pool.call(remote_build, job)
        built_one(job.site)
        return site

    with ThreadPoolExecutor(max_workers=pool.workers) as threads:  # threads only wait on the workers
        try:
            return list(threads.map(build, jobs))
        except BaseException:  # Ctrl-C, SIGTERM: release the threads before the executor waits on them
            pool.cancel()
            raise


def _reuse(job: SiteJob) -> SiteBuilt:
    """Hard-link last run's files; the documents' keys and signatures for the near-duplicate step."""
    files, v = job.files, job.version
    for f in files.all():
        v.reuse(f)
    index = state.read_signatures(v.staged(files.doc_index), "doc_id")
    docs = pq.read_table(
        v.staged(files.documents), columns=["doc_id", "published", "url", "source"]
    ).to_pylist()
    kept = [d for d in docs if d["doc_id"] in index]
    assert job.prev_summary is not None
    summary = SiteSummary(**{**job.prev_summary.__dict__, "duplicate_pages": 0})
    return SiteBuilt(
        job.site,
        summary,
        [DocKey(d["doc_id"], d["published"], d["url"], d["source"]) for d in kept],
        [index[d["doc_id"]][0] for d in kept],
        mode=REUSED,
    )


def _rebuild(job: SiteJob) -> SiteBuilt:
    """Re-learn the site from all its pages' columns, then finish its pages a chunk at a time,
    streaming their rows into the site's files."""
    files, v = job.files, job.version
    known: dict[str, np.ndarray] = {}
    if job.model_ok and (prev := v.previous_path(files.texts)):
        known, _ = state.read_texts(prev)
    reader = state.SitePages(
        [(v.staged(folder_pages(f)), v.staged(folder_blocks(f))) for f in job.folders],
        job.site,
        job.limits.site_chunk_pages,
    )

    def texts_written(sigs: dict[str, np.ndarray], keys: dict[str, str]) -> None:
        write_texts(job, files, sigs, keys)
        give_back_freed_memory()  # clustering's temporaries, before the counting allocates its own

    learned = learn_site(reader, job.cfg, known, texts_sink=texts_written)
    del known
    v.write("boilerplate", Path(files.boilerplate).name, boilerplate_table(job.site, learned.clusters))
    assert learned.stats is not None
    write_clusters_and_stats(
        job, learned.clusters, files, learned.stats.state_tables(STATS_STATE, job.limits.state_slice)
    )
    learned.stats = None  # written: finishing the pages needs only each block's cluster
    give_back_freed_memory()
    counts: Counter = Counter()
    indexer = DocIndexer(job, files)
    fallback = htmldate_again(job.raw, job.cfg.load)
    first_row = 0
    with (
        v.writer("documents", Path(files.documents).name) as write_docs,
        v.writer("blocks", Path(files.blocks).name) as write_blocks,
    ):
        for pages in reader.chunks():
            documents = finish_pages(job.site, pages, learned, job.cfg, first_row, fallback)
            rows = [(p.page.doc_id, b) for p in pages for b in p.blocks]
            first_row += len(rows)
            docs_t, blocks_t = documents_table(documents, job.now, job.run_id), blocks_table(job.site, rows)
            write_docs(docs_t)
            write_blocks(blocks_t)
            counts.update(summary_counts(docs_t, blocks_t))
            indexer.add(documents)
            del rows, documents
    del reader
    write_layout(job, learned.layout, files)  # after finishing: it records the layout paths it decided
    keys, sigs = indexer.finish()
    summary = dataclasses.replace(
        summary_from_counts(job.site, counts, len(learned.clusters)), copies=learned.copies
    )
    return SiteBuilt(job.site, summary, keys, sigs)
