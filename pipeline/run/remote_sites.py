"""Site builds on workers that do not share the driver's disk (a Dask cluster, the output on object
storage): the driver puts the run's folder state into the new version's prefix in the store; a
worker fetches what its site's build reads (that state, the previous version's files of the site),
builds in a temporary folder and puts the site's files into the same prefix; the driver fetches
them back, so its work folder holds the whole version as for any run. Nothing becomes visible to
readers before the pointer write of the publish. Touches disk and the network."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from pipeline.locations import Remote
from pipeline.run.executor import Executor
from pipeline.run.site_job import REUSED, SiteBuilt, SiteJob
from pipeline.run.sites import build_site_job, build_sites
from pipeline.store.objstore import InStore, RunOutput, put_version_files, version_url
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import PARSED_DIR, folder_blocks, folder_pages


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


@dataclass(frozen=True)
class SitesOnStore:
    """The site step of a run whose workers reach only the store: build_site_on_store runs on the
    workers, `share` and `fetch` on the driver around it."""

    store: Remote
    run_id: str

    def share(self, version: StagedVersion) -> InStore:
        """The run's folder state, into the store (the publish would send it anyway): a folder's state
        carried over from the last version is copied inside the store, a new one uploaded."""
        files = sorted(p for p in (version.dir / PARSED_DIR).glob("*.parquet"))
        rels = [p.relative_to(version.dir).as_posix() for p in files]
        put_version_files(self.store, self.run_id, version.dir, version.previous, rels)
        return {r: _stamp(p) for r, p in zip(rels, files)}

    def fetch(self, version: StagedVersion, jobs: list[SiteJob]) -> InStore:
        """The files the workers wrote, into the driver's staged version."""
        fs, target = self.store.fs(), version_url(self.store, self.run_id)
        fs.invalidate_cache(target.path)
        present = set(fs.find(target.path))
        rels = [r for j in jobs if j.mode != REUSED for r in j.files.all() if target.key(r) in present]
        for r in rels:
            version.staged(r).parent.mkdir(parents=True, exist_ok=True)
            if version.staged(r).exists():
                version.staged(r).unlink()
        if rels:
            fs.get([target.key(r) for r in rels], [str(version.staged(r)) for r in rels])
        return {r: _stamp(version.staged(r)) for r in rels}


def sites_on_store(output: RunOutput, dask_address: str | None, run_id: str) -> SitesOnStore | None:
    """A Dask cluster and a remote output: the workers reach the store, not this machine's disk."""
    return SitesOnStore(output.remote, run_id) if output.remote is not None and dask_address else None


def build_run_sites(
    jobs: list[SiteJob],
    pool: Executor,
    version: StagedVersion,
    on_store: SitesOnStore | None,
    on_built: Callable[[str], None] | None = None,
) -> tuple[list[SiteBuilt], InStore]:
    """The site step of a run (build_sites), through the store when `on_store`; returns the sites and
    the files of the version the store already holds."""
    in_store = on_store.share(version) if on_store else {}
    build = partial(build_site_on_store, store=on_store.store) if on_store else None
    built = build_sites(jobs, pool, on_built, build)  # a reused site is only hard links: linked here
    if on_store:
        in_store |= on_store.fetch(version, jobs)
    return built, in_store


def build_site_on_store(job: SiteJob, store: Remote) -> SiteBuilt:
    """build_site_job in a temporary folder of this machine, its inputs fetched from the store and its
    files put into the new version's prefix there."""
    fs = store.fs()
    run = version_url(store, job.run_id)
    prev_id = job.version.previous.name if job.version.previous is not None else None
    with tempfile.TemporaryDirectory(prefix="sitesift-site-") as tmp:
        stage, prev = Path(tmp) / "stage", Path(tmp) / "prev"
        state = [rel for f in job.folders for rel in (folder_pages(f), folder_blocks(f))]
        wanted = [(run.key(rel), stage / rel) for rel in state]
        if prev_id is not None:  # the site's files of the last version, those it has
            old = version_url(store, prev_id)
            wanted += [(old.key(rel), prev / rel) for rel in job.files.all() if fs.exists(old.key(rel))]
        for _, path in wanted:
            path.parent.mkdir(parents=True, exist_ok=True)
        for dataset in ("documents", "blocks", "boilerplate"):
            (stage / dataset).mkdir(parents=True, exist_ok=True)
        fs.get([key for key, _ in wanted], [str(path) for _, path in wanted])
        local = replace(job, version=StagedVersion(stage, prev if prev_id is not None else None, job.cfg))
        built = build_site_job(local)
        written = [rel for rel in job.files.all() if (stage / rel).is_file()]
        fs.put([str(stage / rel) for rel in written], [run.key(rel) for rel in written])
    return built
