"""Where every file of a run version lives, named once: the output datasets, and the run state that
re-runs read back (under `_state/`, inside each version, so output and state switch together).

    _state/meta.json                         pipeline version, parse / model fingerprints, site summaries
    _state/parsed/<folder>.pages.parquet     one row per page of a raw folder (or why it was unusable)
    _state/parsed/<folder>.blocks.parquet    the blocks of those pages, as segmented
    _state/parsed/.<folder>.parts/           a folder's block rows spilled while it is parsed
    _state/models/<site>.clusters.parquet    the site's boilerplate clusters, first and last seen
    _state/models/<site>.texts.parquet       MinHash signature and cluster key of every distinct block text
    _state/models/<site>.stats.parquet       every block cluster's page count, variants and key
    _state/models/<site>.layout.parquet      the site's layout model (store: schemas.LAYOUT_STATE)
    _state/doc_index/<site>.parquet          document MinHash signature of every page's clean text

Paths are relative to a version folder. Pure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = "_state"
META = f"{STATE_DIR}/meta.json"
PARSED_DIR = f"{STATE_DIR}/parsed"
_PAGES_SUFFIX = ".pages.parquet"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def site_file_name(site: str) -> str:
    """A file name for a site that cannot escape its folder; a site whose name had to be changed gets
    a hash suffix, so two sites never share a file."""
    name = _SAFE.sub("_", site).strip("._") or "site"
    if name != site:
        name += "-" + hashlib.sha1(site.encode()).hexdigest()[:8]
    return f"{name}.parquet"


def folder_pages(folder: str) -> str:
    return f"{PARSED_DIR}/{folder}{_PAGES_SUFFIX}"


def folder_blocks(folder: str) -> str:
    return f"{PARSED_DIR}/{folder}.blocks.parquet"


def folder_parts(folder: str) -> str:
    return f"{PARSED_DIR}/.{folder}.parts"


def folders_in(version: Path) -> list[str]:
    """The raw folders whose page state a version holds, in name order."""
    parsed = version / PARSED_DIR
    if not parsed.is_dir():
        return []
    return sorted(f.name[: -len(_PAGES_SUFFIX)] for f in parsed.glob(f"*{_PAGES_SUFFIX}"))


@dataclass(frozen=True)
class SiteFiles:
    """A site's output and state files inside a run version."""

    documents: str
    blocks: str
    boilerplate: str
    clusters: str
    texts: str
    stats: str
    layout: str
    doc_index: str

    @classmethod
    def of(cls, site: str) -> SiteFiles:
        name = site_file_name(site)
        stem = name[: -len(".parquet")]
        models = f"{STATE_DIR}/models/{stem}"
        return cls(
            documents=f"documents/{name}",
            blocks=f"blocks/{name}",
            boilerplate=f"boilerplate/{name}",
            clusters=f"{models}.clusters.parquet",
            texts=f"{models}.texts.parquet",
            stats=f"{models}.stats.parquet",
            layout=f"{models}.layout.parquet",
            doc_index=f"{STATE_DIR}/doc_index/{name}",
        )

    def all(self) -> tuple[str, ...]:
        return (
            self.documents,
            self.blocks,
            self.boilerplate,
            self.clusters,
            self.texts,
            self.stats,
            self.layout,
            self.doc_index,
        )
