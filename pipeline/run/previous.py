"""What the last published run knows, read once at the start of a run: its settings' fingerprints, its
site summaries, and an index of its pages by raw folder and by source (never its blocks). Touches
disk (reads the previous version)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.config import PIPELINE_VERSION, PipelineConfig
from pipeline.store import state
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import META, folder_blocks, folder_pages, folders_in


@dataclass(frozen=True)
class PrevPage:
    """What the last run's page state says of a page."""

    content_hash: str
    site: str
    source: str
    extractor: str | None
    in_sample: bool | None  # None: the page could not be parsed


@dataclass(frozen=True)
class PreviousRun:
    """The last run as this run may use it: its parse is reusable only under the same parse settings
    (`parse_ok`), its models and signatures only under the same model settings (`model_ok`)."""

    version: Path | None
    parse_ok: bool
    model_ok: bool
    sites: dict[str, dict] = field(default_factory=dict)  # site -> its summary as that run wrote it
    pages_by_folder: dict[str, dict[str, PrevPage]] = field(default_factory=dict)  # folder -> doc_id -> page
    by_source: dict[str, tuple[str, tuple[int, int]]] = field(
        default_factory=dict
    )  # source -> (doc_id, stat)

    @classmethod
    def read(cls, version: StagedVersion, cfg: PipelineConfig) -> PreviousRun:
        prev = version.previous
        meta = state.read_meta(prev / META) if prev else {}
        parse_ok = prev is not None and meta.get("parse_fingerprint") == cfg.parse_fingerprint(
            PIPELINE_VERSION
        )
        model_ok = prev is not None and meta.get("model_fingerprint") == cfg.model_fingerprint(
            PIPELINE_VERSION
        )
        by_source: dict[str, tuple[str, tuple[int, int]]] = {}
        by_folder: dict[str, dict[str, PrevPage]] = defaultdict(dict)
        for folder in folders_in(prev) if prev is not None and parse_ok else []:
            assert prev is not None
            cols = [
                "source",
                "doc_id",
                "content_hash",
                "site",
                "file_size",
                "file_mtime_ns",
                "extractor",
                "in_sample",
            ]
            t = pq.read_table(prev / folder_pages(folder), columns=cols).to_pydict()
            for src, d, h, site, size, mtime, extractor, sampled in zip(*t.values()):
                by_source[src] = (d, (size or 0, mtime or 0))
                by_folder[folder][d] = PrevPage(h, site, src, extractor, sampled)
        return cls(
            prev, parse_ok, model_ok, meta.get("sites", {}) if model_ok else {}, dict(by_folder), by_source
        )

    def folder_state(self, folder: str) -> tuple[Path, Path] | None:
        """The last run's page and block state files of a raw folder, when its parse is reusable."""
        if not self.parse_ok or self.version is None:
            return None
        pages, blocks = self.version / folder_pages(folder), self.version / folder_blocks(folder)
        return (pages, blocks) if pages.exists() and blocks.exists() else None

    def folders(self) -> list[str]:
        return sorted(self.pages_by_folder) if self.parse_ok else []
