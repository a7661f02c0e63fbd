"""The crawl log dataset (<out>/crawl_log/): one row per URL a crawl dealt with. Parts are written
as the crawl goes (hidden temporary name, then rename), so an interrupted crawl keeps what it did and
the next crawl can send conditional requests for it. Touches disk."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from pipeline.schemas import CRAWL_LOG_SCHEMA


@dataclass
class CrawlLogRow:
    crawl_id: str
    host: str
    url: str
    outcome: str
    depth: int = 0
    final_url: str | None = None
    status: int | None = None
    reason: str | None = None
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    bytes: int = 0
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration: float = 0.0
    retries: int = 0
    error: str | None = None
    redirect_chain: list[str] = field(default_factory=list)
    warc_file: str | None = None


def rows_table(rows: list[CrawlLogRow]) -> pa.Table:
    return pa.Table.from_pydict(
        {name: [getattr(r, name) for r in rows] for name in CRAWL_LOG_SCHEMA.names}, schema=CRAWL_LOG_SCHEMA
    )


class CrawlLogWriter:
    """Collects one host's rows and writes them as numbered parts every `every` rows and at close."""

    def __init__(self, directory: Path, crawl_id: str, host_slug: str, every: int = 200):
        self.directory, self.crawl_id, self.host_slug, self.every = directory, crawl_id, host_slug, every
        self.rows: list[CrawlLogRow] = []
        self.all_rows: list[CrawlLogRow] = []
        self.parts = 0

    def add(self, row: CrawlLogRow) -> None:
        self.rows.append(row)
        self.all_rows.append(row)
        if len(self.rows) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.crawl_id}-{self.host_slug}-{self.parts:04d}.parquet"
        tmp = self.directory / f".{name}.tmp"
        pq.write_table(rows_table(self.rows), tmp)
        os.replace(tmp, self.directory / name)
        self.parts += 1
        self.rows = []


def read_log(directory: Path) -> pa.Table:
    files = sorted(p for p in directory.glob("*.parquet")) if directory.is_dir() else []
    if not files:
        return CRAWL_LOG_SCHEMA.empty_table()
    return pads.dataset([str(f) for f in files], schema=CRAWL_LOG_SCHEMA, format="parquet").to_table()


@dataclass(frozen=True)
class KnownPage:
    """What the last crawl learned about a URL: validators for a conditional request, and its depth."""

    etag: str | None
    last_modified: str | None
    depth: int


def known_pages(directory: Path, host: str) -> dict[str, KnownPage]:
    """url -> KnownPage for the latest stored or unchanged fetch of each URL of host. A re-crawl
    revisits these too: a 304 page has no body to find its links in."""
    table = read_log(directory)
    if table.num_rows == 0:
        return {}
    df = table.select(["host", "url", "outcome", "fetched_at", "etag", "last_modified", "depth"]).to_pandas()
    df = df[(df.host == host) & df.outcome.isin(["stored", "unchanged"])].sort_values(["fetched_at", "url"])
    latest = df.groupby("url").tail(1)
    return {
        r.url: KnownPage(
            r.etag if isinstance(r.etag, str) else None,
            r.last_modified if isinstance(r.last_modified, str) else None,
            int(r.depth),
        )
        for r in latest.itertuples()
    }
