"""The records of the site step: what one site's build needs (SiteJob, plain values that can go to
another process or a Dask worker) and what it gives back (SiteBuilt)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from pipeline.clean.neardup import DocKey
from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.locations import Location
from pipeline.records import ParsedPage, SiteSummary
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import SiteFiles

REUSED, APPENDED, REBUILT = "reused", "appended", "rebuilt"


@dataclass(frozen=True)
class SiteJob:
    site: str
    cfg: PipelineConfig
    limits: ResourceLimits
    version: StagedVersion
    folders: tuple[str, ...]  # the raw folders that hold the site's pages
    mode: str  # REUSED: hard-link last run's files; APPENDED: try appending new_pages; REBUILT: re-learn
    model_ok: bool  # last run's signatures are valid for these settings
    prev_summary: SiteSummary | None
    now: dt.datetime
    run_id: str  # written into every row the job writes
    new_pages: tuple[ParsedPage, ...] = ()  # the pages to append (mode APPENDED)
    raw: Location | None = None  # raw/, for htmldate on the pages the site's date model cannot decide

    @property
    def files(self) -> SiteFiles:
        return SiteFiles.of(self.site)


@dataclass
class SiteBuilt:
    site: str
    summary: SiteSummary
    keys: list[DocKey] = field(default_factory=list)  # its documents, for the near-duplicate step
    sigs: list[np.ndarray] = field(default_factory=list)
    mode: str = REBUILT
