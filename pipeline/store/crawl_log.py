"""The crawl log dataset (<out>/crawl_log/): one row per URL a crawl dealt with. Every row is appended
to a hidden journal (one JSON line, handed to the kernel at once) as soon as its URL is done, and every
`every` rows the journal becomes a Parquet part; a crawl killed even by SIGKILL leaves its journal,
which the next crawl of the host turns into the missing part before it reads the log, so what was
fetched is re-checked with conditional requests and nothing else is skipped. Touches disk."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from pipeline.acquire.errors import RefusedURL
from pipeline.acquire.urls import normalise
from pipeline.records import CrawlLogRow, KnownPage
from pipeline.schemas import CRAWL_LOG_SCHEMA


def rows_table(rows: list[CrawlLogRow]) -> pa.Table:
    return pa.Table.from_pydict(
        {name: [getattr(r, name) for r in rows] for name in CRAWL_LOG_SCHEMA.names}, schema=CRAWL_LOG_SCHEMA
    )


JOURNAL_SUFFIX = ".journal"


def _part_name(crawl_id: str, host_slug: str, n: int) -> str:
    return f"{crawl_id}-{host_slug}-{n:04d}.parquet"


def _journal_name(crawl_id: str, host_slug: str, n: int) -> str:
    """Host first and '@' between the fields: '@' is in no host slug, so one host's journals are
    never taken for another's ("x.org" and "a-x.org")."""
    return f".{host_slug}@{crawl_id}@{n:04d}{JOURNAL_SUFFIX}"


def _journal_row(row: CrawlLogRow) -> str:
    data = {name: getattr(row, name) for name in CRAWL_LOG_SCHEMA.names}
    data["fetched_at"] = row.fetched_at.isoformat()
    return json.dumps(data, ensure_ascii=False) + "\n"


def _read_journal(path: Path) -> list[CrawlLogRow]:
    """The complete rows of a journal; a last line cut short by a kill is left out."""
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            data["fetched_at"] = dt.datetime.fromisoformat(data["fetched_at"])
            rows.append(CrawlLogRow(**data))
        except (ValueError, TypeError, KeyError):
            continue
    return rows


def _write_part(path: Path, rows: list[CrawlLogRow]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(rows_table(rows), tmp)
    os.replace(tmp, path)


class CrawlLogWriter:
    """One host's rows for one crawl: each row into the journal at once, a Parquet part every
    `every` rows and at close."""

    def __init__(self, directory: Path, crawl_id: str, host_slug: str, every: int = 200):
        self.directory, self.crawl_id, self.host_slug, self.every = directory, crawl_id, host_slug, every
        self.rows: list[CrawlLogRow] = []
        self.parts = 0
        self._journal: TextIO | None = None

    def _journal_path(self) -> Path:
        return self.directory / _journal_name(self.crawl_id, self.host_slug, self.parts)

    def add(self, row: CrawlLogRow) -> None:
        if self._journal is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._journal = open(self._journal_path(), "a", encoding="utf-8")  # noqa: SIM115 - closed in flush()
        self._journal.write(_journal_row(row))
        self._journal.flush()  # one write(2) per row: survives a kill of the process
        self.rows.append(row)
        if len(self.rows) >= self.every:
            self.flush()

    def flush(self) -> None:
        """The rows so far become a Parquet part; then their journal goes."""
        if not self.rows:
            return
        _write_part(self.directory / _part_name(self.crawl_id, self.host_slug, self.parts), self.rows)
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._journal_path().unlink(missing_ok=True)
        self.parts += 1
        self.rows = []

    close = flush


def salvage_journals(directory: Path, host_slug: str) -> int:
    """Turn the journals that killed crawls of one host left behind into Parquet parts; returns
    the rows recovered. Call it only while holding the host's crawl lock: a live crawl's journal
    must not be taken."""
    recovered = 0
    if not directory.is_dir():
        return 0
    for journal in sorted(directory.glob(f".{host_slug}@*@[0-9][0-9][0-9][0-9]{JOURNAL_SUFFIX}")):
        crawl_id, n = journal.name[len(host_slug) + 2 : -len(JOURNAL_SUFFIX)].rsplit("@", 1)
        part = directory / _part_name(crawl_id, host_slug, int(n))
        rows = [] if part.exists() else _read_journal(journal)  # part written, journal not yet gone
        if rows:
            _write_part(part, rows)
            recovered += len(rows)
        journal.unlink()
    return recovered


def read_log(directory: Path) -> pa.Table:
    files = sorted(p for p in directory.glob("*.parquet")) if directory.is_dir() else []
    if not files:
        return CRAWL_LOG_SCHEMA.empty_table()
    return pads.dataset([str(f) for f in files], schema=CRAWL_LOG_SCHEMA, format="parquet").to_table()


def known_pages(directory: Path, host: str) -> dict[str, KnownPage]:
    """url -> KnownPage for the latest stored or unchanged fetch of each URL of host. A re-crawl
    revisits these too: a 304 page has no body to find its links in."""
    table = read_log(directory)
    if table.num_rows == 0:
        return {}
    columns = ["host", "url", "outcome", "fetched_at", "etag", "last_modified", "depth", "warc_file"]
    df = table.select(columns).to_pandas()
    df = df[(df.host == host) & df.outcome.isin(["stored", "unchanged"])].sort_values(["fetched_at", "url"])
    latest = df.groupby("url").tail(1)
    known = {}
    for r in latest.itertuples():
        try:
            url = normalise(r.url)  # logs of older versions hold other spellings of a URL
        except RefusedURL:
            continue
        known[url] = KnownPage(
            r.etag if isinstance(r.etag, str) else None,
            r.last_modified if isinstance(r.last_modified, str) else None,
            int(r.depth),
            r.warc_file if isinstance(r.warc_file, str) else None,
        )
    return known
