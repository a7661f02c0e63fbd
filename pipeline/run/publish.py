"""Step 5, publish: the run summary, the skipped inputs, the changes and the state's meta written
into the staged version, then the version made current in one switch. Touches disk."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from pipeline.config import PIPELINE_VERSION, PipelineConfig
from pipeline.records import RunSummary
from pipeline.run.changes import record_changes
from pipeline.run.dedup import NearDuplicates
from pipeline.run.folders import RunFolders
from pipeline.run.site_job import APPENDED, REBUILT, SiteBuilt
from pipeline.store import state
from pipeline.store.parquet import Staging
from pipeline.store.state_layout import META
from pipeline.store.tables import skipped_table


def run_summary(folders: RunFolders, built: list[SiteBuilt], dups: NearDuplicates) -> RunSummary:
    built = sorted(built, key=lambda b: b.site)
    sites = [dataclasses.replace(b.summary, duplicate_pages=dups.pages_by_site.get(b.site, 0)) for b in built]
    c = folders.counts
    return RunSummary(
        inputs=c["inputs"],
        pages=sum(s.pages for s in sites),
        pages_new=c["new"],
        pages_changed=c["changed"],
        pages_unchanged=c["unchanged"],
        pages_removed=c["removed"],
        parsed=c["parsed"],
        parsed_again=c["parsed_again"],
        sites_rebuilt=[b.site for b in built if b.mode in (REBUILT, APPENDED)],
        sites_appended=[b.site for b in built if b.mode == APPENDED],
        skipped=len(folders.skipped),
        skipped_by_reason=dict(sorted(Counter(s.reason for s in folders.skipped).items())),
        duplicate_clusters=dups.clusters,
        duplicate_pages=sum(s.duplicate_pages for s in sites),
        sites=sites,
    )


def publish(
    staging: Staging, folders: RunFolders, summary: RunSummary, cfg: PipelineConfig, now: dt.datetime
) -> dict:
    """Write what is left of the version and make it current; returns the summary as a plain dict."""
    if folders.skipped:
        staging.write("skipped", "skipped.parquet", skipped_table(folders.skipped))
    summary = dataclasses.replace(summary, changes=record_changes(staging, now), run_id=staging.run_id)
    as_dict = dataclasses.asdict(summary)
    state.write_meta(
        staging.staged(META),
        {
            "pipeline_version": PIPELINE_VERSION,
            "parse_fingerprint": cfg.parse_fingerprint(PIPELINE_VERSION),
            "model_fingerprint": cfg.model_fingerprint(PIPELINE_VERSION),
            "config": cfg.to_dict(),
            "written_at": now.isoformat(),
            "sites": {s["site"]: s for s in as_dict["sites"]},
        },
    )
    staging.commit(extra={"summary": as_dict, "config_fingerprint": cfg.fingerprint()})
    return as_dict
