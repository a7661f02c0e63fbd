"""Run state (Parquet, laid out as store/state_layout.py says): what lets a re-run parse only new and
changed pages and re-learn only the sites that changed. Readers and writers of those files, as Arrow
tables and the records they stand for. Touches disk.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.clean.boilerplate import ClusterStats, SiteModel
from pipeline.clean.layout import PathCounts, column_path_counts, page_teaches
from pipeline.clean.site_columns import SiteColumns
from pipeline.clean.site_dates import DateEvidence, evidence_of
from pipeline.records import HTMLDATE_ASKED, Block, DateCandidate, Page, PageMeta, ParsedPage, Skipped
from pipeline.schemas import BLOCKS_STATE, PAGES_STATE, STATS_STATE, TEXTS_STATE


# -- parsed pages --------------------------------------------------------------------------------------
def parsed_tables(pages: list[ParsedPage], failed: list[tuple[Page, Skipped]]) -> tuple[pa.Table, pa.Table]:
    rows = []
    for p in pages:
        rows.append(
            {
                "doc_id": p.page.doc_id,
                "site_hint": p.page.site_hint,
                "source": p.page.source,
                "kind": p.page.kind,
                "url": p.page.url,
                "chars_raw": p.page.chars_raw,
                "content_hash": p.page.content_hash,
                "site": p.site,
                "html_title": p.html_title,
                "og_title": p.og_title,
                "extractor": p.extractor,
                "date_candidates": [
                    {"date": c.date, "role": c.role, "source": c.source} for c in p.date_candidates
                ],
                "skip_reason": None,
                "skip_detail": None,
                "file_size": p.page.file_stat[0],
                "file_mtime_ns": p.page.file_stat[1],
                "in_sample": p.in_sample,
                "meta": asdict(p.meta),
                "extractor_meta": asdict(p.extractor_meta) if p.extractor_meta is not None else None,
                "htmldate": p.htmldate,
                "date_hints": [{"key": k, "date": d} for k, d in p.date_hints],
            }
        )
    for page, skip in failed:
        rows.append(
            {
                "doc_id": page.doc_id,
                "site_hint": page.site_hint,
                "source": page.source,
                "kind": page.kind,
                "url": page.url,
                "chars_raw": page.chars_raw,
                "content_hash": page.content_hash,
                "site": skip.site,
                "html_title": None,
                "og_title": None,
                "extractor": None,
                "date_candidates": [],
                "skip_reason": skip.reason,
                "skip_detail": skip.detail,
                "file_size": page.file_stat[0],
                "file_mtime_ns": page.file_stat[1],
                "in_sample": None,
                "meta": None,
                "extractor_meta": None,
                "htmldate": None,
                "date_hints": [],
            }
        )
    rows.sort(key=lambda r: str(r["doc_id"]))
    pages_t = pa.Table.from_pylist(rows, schema=PAGES_STATE)
    ordered = sorted(pages, key=lambda p: p.page.doc_id)
    blocks = [b for p in ordered for b in p.blocks]
    columns = {  # column by column: no dict per block
        "doc_id": [p.page.doc_id for p in ordered for _ in p.blocks],
        "position": [b.position for b in blocks],
        "kind": [b.kind for b in blocks],
        "text": [b.text for b in blocks],
        "tag_path": [b.tag_path for b in blocks],
        "tag": [b.tag for b in blocks],
        "in_main": [b.in_main for b in blocks],
        "is_dateline": [b.is_dateline for b in blocks],
        "layout_path": [b.layout_path for b in blocks],
    }
    return pages_t, pa.Table.from_pydict(columns, schema=BLOCKS_STATE)


COMPRESS_PICKLE_BYTES = 4 << 20  # ~200 pages of state rows


@dataclass(frozen=True)
class ParsedTables:
    """Parsed pages as their state rows, in doc_id order: what a parser process hands back. Arrow
    tables cross a process boundary as buffers (~0.1 ms a page, table building included); the same
    pages as objects cost ~1.2 ms a page to pickle and unpickle, on the main process too."""

    pages: pa.Table
    blocks: pa.Table

    @staticmethod
    def of(pages: list[ParsedPage], failed: list[tuple[Page, Skipped]]) -> ParsedTables:
        return ParsedTables(*parsed_tables(pages, failed))

    @staticmethod
    def concat(parts: list[ParsedTables]) -> ParsedTables:
        """One table pair of several, in doc_id order again (each part is; a page's blocks stay together)."""
        parts = [p for p in parts if p.pages.num_rows]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return ParsedTables(PAGES_STATE.empty_table(), BLOCKS_STATE.empty_table())
        pages = pa.concat_tables([p.pages for p in parts]).sort_by("doc_id")
        blocks = pa.concat_tables([p.blocks for p in parts]).sort_by(
            [("doc_id", "ascending"), ("position", "ascending")]
        )
        return ParsedTables(pages, blocks)

    def parsed_pages(self, doc_ids: list[str]) -> list[ParsedPage]:
        """These parsed pages as objects again (the append path works on objects)."""
        ids = pa.array(doc_ids, pa.string())
        rows = self.pages.filter(pa.compute.is_in(self.pages["doc_id"], ids)).to_pylist()
        return _page_objects(rows, self.blocks.filter(pa.compute.is_in(self.blocks["doc_id"], ids)))

    def __reduce__(self):
        """Large tables (Prefect's cache of parse results) pickle as zstd-compressed Arrow IPC, a
        seventh of the plain buffers (~10 ms per 1,000 pages to write, ~6 to read); a few pages (a
        worker's batch through its pipe) as plain buffers, cheaper than compressing each small stream."""
        if self.pages.nbytes + self.blocks.nbytes < COMPRESS_PICKLE_BYTES:
            return ParsedTables, (self.pages, self.blocks)
        return _tables_from_ipc, (_ipc_bytes(self.pages), _ipc_bytes(self.blocks))


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _tables_from_ipc(pages: bytes, blocks: bytes) -> ParsedTables:
    return ParsedTables(pa.ipc.open_stream(pages).read_all(), pa.ipc.open_stream(blocks).read_all())


STRING_BLOCK_COLUMNS = ["doc_id", "kind", "text", "tag_path", "tag", "layout_path"]


@dataclass
class _SharedFolder:
    """A folder's page state indexed by site once, for a folder that holds many sites (a WARC file
    of a multi-host crawl): each of its sites then takes its rows instead of reading and filtering
    the whole folder again (K sites of one folder would cost K whole reads)."""

    pages: pa.Table  # usable pages
    blocks: pa.Table
    page_rows: dict[str, np.ndarray]  # site -> its rows of pages, in file order
    block_rows: dict[str, np.ndarray]  # site -> its rows of blocks, in file order


_SHARED_FOLDERS: dict[tuple, _SharedFolder] = {}  # per process; the latest few, by file identity
_SHARED_FOLDERS_KEPT = 2


def _rows_by_site(sites: list[str | None]) -> dict[str, np.ndarray]:
    by_site: dict[str, list[int]] = {}
    for i, site in enumerate(sites):
        if site is not None:
            by_site.setdefault(site, []).append(i)
    return {k: np.array(v, np.int64) for k, v in by_site.items()}


def _site_rows(pages_path: Path, blocks_path: Path, site: str) -> tuple[pa.Table, pa.Table]:
    """One site's usable pages and their blocks from one folder's state files."""
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in (pages_path, blocks_path))
    shared = _SHARED_FOLDERS.get(key)
    if shared is None:
        t = pq.read_table(pages_path, schema=PAGES_STATE)
        usable = t.filter(pa.compute.is_null(t["skip_reason"]))
        b = pq.read_table(blocks_path, read_dictionary=STRING_BLOCK_COLUMNS).select(BLOCKS_STATE.names)
        if len(pa.compute.unique(usable["site"])) <= 1:  # the usual folder: one site, nothing to index
            mine = usable.filter(pa.compute.equal(usable["site"], site))
            if mine.num_rows < t.num_rows:  # unusable pages too
                b = b.filter(pa.compute.is_in(b["doc_id"].cast(pa.string()), mine.column("doc_id")))
            return mine, b
        site_of = dict(zip(usable.column("doc_id").to_pylist(), usable.column("site").to_pylist()))
        b = b.unify_dictionaries()  # one dictionary for every chunk: the codes below index it
        doc_ids = b.column("doc_id")
        names = doc_ids.chunks[0].dictionary.to_pylist() if doc_ids.num_chunks else []
        codes = (
            np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in doc_ids.chunks])
            if doc_ids.num_chunks
            else np.zeros(0, np.int64)
        )
        name_sites = [site_of.get(n) for n in names]
        shared = _SharedFolder(
            usable,
            b,
            _rows_by_site(usable.column("site").to_pylist()),
            _rows_by_site([name_sites[c] for c in codes.tolist()]),
        )
        while len(_SHARED_FOLDERS) >= _SHARED_FOLDERS_KEPT:
            _SHARED_FOLDERS.pop(next(iter(_SHARED_FOLDERS)))
        _SHARED_FOLDERS[key] = shared
    empty = np.zeros(0, np.int64)
    return (
        shared.pages.take(pa.array(shared.page_rows.get(site, empty))),
        shared.blocks.take(pa.array(shared.block_rows.get(site, empty))),
    )


class SitePages:
    """One site's parsed pages, read from its folders' state files and held as dictionary-encoded
    Arrow columns (a template text repeated on every page is stored once: ~6 MB per 1,000 pages),
    handed out as integer columns for learning (columns) and as ParsedPage objects `chunk_pages` at a
    time in page order for finishing."""

    def __init__(self, folder_files: list[tuple[Path, Path]], site: str, chunk_pages: int):
        self.chunk_pages = max(1, chunk_pages)
        pages_parts, blocks_parts = [], []
        for pages_path, blocks_path in folder_files:
            pages, blocks = _site_rows(pages_path, blocks_path, site)
            pages_parts.append(pages)
            blocks_parts.append(blocks)
        self.pages = pa.concat_tables(pages_parts) if pages_parts else PAGES_STATE.empty_table()
        self.blocks = (
            pa.concat_tables(blocks_parts, promote_options="permissive").unify_dictionaries()
            if blocks_parts
            else BLOCKS_STATE.empty_table()
        )
        keys = sorted(
            zip(
                self.pages.column("source").to_pylist(),
                self.pages.column("doc_id").to_pylist(),
                range(self.pages.num_rows),
            )
        )
        self.order = [i for _, _, i in keys]  # page rows in page order: (source, doc_id)
        self.ranges = self._block_ranges()

    def _block_ranges(self) -> dict[str, list[tuple[int, int]]]:
        """doc_id -> (first row, rows) of its blocks: a page's blocks are stored together."""
        col = self.blocks.column("doc_id")
        if col.num_chunks == 0 or len(col) == 0:
            return {}
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in col.chunks])
        names = col.chunks[0].dictionary.to_pylist()
        starts = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1))
        lengths = np.diff(np.concatenate((starts, [len(codes)])))
        ranges: dict[str, list[tuple[int, int]]] = {}
        for code, start, n in zip(codes[starts].tolist(), starts.tolist(), lengths.tolist()):
            ranges.setdefault(names[code], []).append((start, n))
        return ranges

    def __len__(self) -> int:
        return self.pages.num_rows

    def titles(self) -> list[str | None]:
        """html_title and og_title of every page, in page order."""
        t = self.pages.select(["html_title", "og_title"]).take(pa.array(self.order, pa.int64())).to_pydict()
        return [x for pair in zip(t["html_title"], t["og_title"]) for x in pair]

    def teaching_counts(self) -> PathCounts:
        """The layout votes of the pages the model learns from (layout.teaches), from the columns:
        no object per block (at 1,000 pages a site, every page teaches)."""
        flags = zip(self.pages.column("in_sample").to_pylist(), self.pages.column("extractor").to_pylist())
        teaching = [i for i, (sampled, extractor) in enumerate(flags) if page_teaches(sampled, extractor)]
        rows, _ = self._block_rows(teaching)
        if len(rows) == 0:
            return {}
        path, paths = _dictionary_codes(self.blocks.column("layout_path"), rows)
        text, texts = _dictionary_codes(self.blocks.column("text"), rows)
        size = pa.compute.utf8_length(texts).to_numpy(zero_copy_only=False)[text]  # characters, as len()
        main = self.blocks.column("in_main").to_numpy()[rows].astype(bool)
        return column_path_counts(path, paths.to_pylist(), size, main)

    def date_evidence(self) -> list[DateEvidence]:
        """What the sampled pages teach the site's date model (clean/site_dates.py), from the columns."""
        return date_evidence_of(self.pages)

    def columns(self) -> SiteColumns:
        """The site's blocks as integer columns in page order (clean/site_columns.SiteColumns)."""
        rows, counts = self._block_rows(self.order)
        text, texts = _dictionary_codes(self.blocks.column("text"), rows)
        tag_path, tag_paths = _dictionary_codes(self.blocks.column("tag_path"), rows)
        dateline = self.blocks.column("is_dateline").to_numpy()[rows] if len(rows) else np.zeros(0, bool)
        return SiteColumns(
            np.repeat(np.arange(len(counts), dtype=np.int32), counts),
            text,
            tag_path,
            dateline.astype(bool),
            texts,
            tag_paths.to_pylist(),
        )

    def chunks(self) -> Iterator[list[ParsedPage]]:
        """The pages as objects chunk by chunk, in page order (each call starts again from the first
        page); block strings come from the site's dictionary, each distinct text made once."""
        for lo in range(0, len(self.order), self.chunk_pages):
            rows = self.order[lo : lo + self.chunk_pages]
            yield _page_objects(
                self.pages.take(pa.array(rows, pa.int64())).to_pylist(),
                self.blocks.take(pa.array(self._block_rows(rows)[0], pa.int64())),
            )

    def _block_rows(self, page_rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(block row of every block of these pages, in their order; block count of each page)."""
        ids = self.pages.column("doc_id").to_pylist()
        spans = [self.ranges.get(ids[i], []) for i in page_rows]
        counts = np.array([sum(n for _, n in page) for page in spans], np.int64)
        rows = np.concatenate(
            [np.arange(s, s + n, dtype=np.int32) for page in spans for s, n in page]
            or [np.empty(0, np.int32)]
        )  # int32: 11.5M rows on a 100,000-page site
        return rows, counts


def pages_of(folder_files: list[tuple[Path, Path]], site: str, doc_ids: set[str]) -> list[ParsedPage]:
    """These pages of a site as ParsedPage objects, in page order, read without the rest of its pages
    (a few old pages that a re-run finishes again)."""
    if not doc_ids:
        return []
    wanted = pa.array(sorted(doc_ids), pa.string())
    rows: list[dict] = []
    parts = []
    for pages_path, blocks_path in folder_files:
        t = pq.read_table(pages_path, schema=PAGES_STATE, filters=pc.field("doc_id").isin(wanted))
        t = t.filter(pc.and_(pc.equal(t["site"], site), pc.is_null(t["skip_reason"])))
        if t.num_rows == 0:
            continue
        rows += t.to_pylist()
        b = pq.read_table(blocks_path, filters=pc.field("doc_id").isin(t["doc_id"]))
        parts.append(b.select(BLOCKS_STATE.names).cast(BLOCKS_STATE))
    if not rows:
        return []
    rows.sort(key=lambda r: (r["source"], r["doc_id"]))
    return _page_objects(rows, pa.concat_tables(parts))


def _page_objects(page_rows: list[dict], blocks_t: pa.Table) -> list[ParsedPage]:
    """ParsedPage objects of these page rows (in their order), with their blocks from blocks_t."""
    by_doc: dict[str, list[Block]] = {}
    cols = [_python_values(blocks_t.column(n)) for n in BLOCKS_STATE.names]
    for doc_id, position, kind, text, tag_path, tag, in_main, is_dateline, layout_path in zip(*cols):
        by_doc.setdefault(doc_id, []).append(
            Block(
                position=position,
                kind=kind,
                text=text,
                tag_path=tag_path,
                tag=tag,
                in_main=in_main,
                is_dateline=is_dateline,
                layout_path=layout_path,
            )
        )
    return [_parsed_page(r, sorted(by_doc.get(r["doc_id"], []), key=lambda b: b.position)) for r in page_rows]


def _dictionary_codes(column: pa.ChunkedArray, rows: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """The values at these rows of a dictionary column (one dictionary for every chunk, as after
    unify_dictionaries) as int32 codes into the array of the distinct values they use."""
    if len(rows) == 0:
        return np.zeros(0, np.int32), pa.array([], pa.large_string())
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks])[rows]
    dictionary = column.chunks[0].dictionary
    used = np.bincount(codes, minlength=len(dictionary)) > 0  # no sort: codes are small integers
    if used.all():  # a site alone in its folder: the dictionary as it is, no copy of its texts
        return codes.astype(np.int32), dictionary.cast(pa.large_string())
    compact = (np.cumsum(used, dtype=np.int64) - 1).astype(np.int32)[codes]
    return compact, dictionary.filter(pa.array(used)).cast(pa.large_string())


def _python_values(column: pa.ChunkedArray) -> list:
    """A column as Python values. A dictionary column converts each distinct value it uses once and
    shares that object between rows (pyarrow's own to_pylist is ~20x slower on dictionaries)."""
    if not pa.types.is_dictionary(column.type):
        return column.to_pylist()
    out: list = []
    for chunk in column.chunks:
        if chunk.null_count:
            out.extend(chunk.cast(chunk.type.value_type).to_pylist())
            continue
        used, inverse = np.unique(chunk.indices.to_numpy(zero_copy_only=False), return_inverse=True)
        values = chunk.dictionary.take(pa.array(used)).to_pylist()
        out.extend(map(values.__getitem__, inverse.tolist()))
    return out


def date_evidence_of(pages: pa.Table) -> list[DateEvidence]:
    """clean/site_dates.evidence_of over page state rows (only sampled pages htmldate was asked of)."""
    asked = pc.and_(
        pc.fill_null(pages["in_sample"], False), pc.equal(pc.fill_null(pages["htmldate"], ""), HTMLDATE_ASKED)
    )
    t = pages.filter(asked).select(["in_sample", "htmldate", "date_candidates", "date_hints"]).to_pydict()
    out = []
    for sampled, htmldate, cands, hints in zip(*t.values()):
        e = evidence_of(
            sampled,
            htmldate,
            [DateCandidate(c["date"], c["role"], c["source"]) for c in cands or ()],
            [(h["key"], h["date"]) for h in hints or ()],
        )
        if e is not None:
            out.append(e)
    return out


def _parsed_page(r: dict, blocks: list[Block]) -> ParsedPage:
    page = Page(
        doc_id=r["doc_id"],
        site_hint=r["site_hint"],
        source=r["source"],
        kind=r["kind"],
        content="",
        url=r["url"],
        chars_raw=r["chars_raw"],
        content_hash=r["content_hash"],
        file_stat=(r["file_size"] or 0, r["file_mtime_ns"] or 0),
    )
    return ParsedPage(
        page=page,
        site=r["site"],
        blocks=blocks,
        html_title=r["html_title"],
        og_title=r["og_title"],
        extractor=r["extractor"],
        in_sample=bool(r["in_sample"]),
        date_candidates=[DateCandidate(c["date"], c["role"], c["source"]) for c in r["date_candidates"]],
        meta=_page_meta(r["meta"]) or PageMeta(),
        extractor_meta=_page_meta(r["extractor_meta"]),
        htmldate=r["htmldate"],
        date_hints=[(h["key"], h["date"]) for h in r["date_hints"] or ()],
    )


def _page_meta(row: dict | None) -> PageMeta | None:
    return PageMeta(**{**row, "tags": tuple(row["tags"] or ())}) if row else None


# -- signatures -----------------------------------------------------------------------------------------
def signatures_table(
    mapping: dict[str, np.ndarray], schema: pa.Schema, key: str, extra: dict | None = None
) -> pa.Table:
    keys = sorted(mapping)
    cols = {key: keys, "signature": _signature_column([mapping[k] for k in keys])}
    for name, values in (extra or {}).items():
        cols[name] = [values[k] for k in keys]
    return pa.Table.from_pydict(cols, schema=schema)


def read_signatures(path: Path, key: str) -> dict[str, tuple[np.ndarray, dict]]:
    if not path.exists():
        return {}
    out = {}
    for r in pq.read_table(path).to_pylist():
        sig = np.frombuffer(r.pop("signature"), dtype="<u4").astype(np.uint32)
        out[r.pop(key)] = (sig, r)
    return out


# -- site models -----------------------------------------------------------------------------------
def _signature_column(rows: list[np.ndarray]) -> pa.Array:
    """Signature rows as one binary column, built from a single buffer (no Python bytes per row)."""
    if not rows:
        return pa.array([], pa.binary())
    matrix = np.ascontiguousarray(np.stack(rows).astype("<u4"))
    width = matrix.shape[1] * 4
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(rows), [None, pa.py_buffer(matrix.tobytes())]
    )
    return fixed.cast(pa.binary())


def texts_tables(
    signatures: dict[str, np.ndarray], keys: dict[str, str], slice_rows: int
) -> Iterator[pa.Table]:
    """Every text's signature and cluster key, in parts of `slice_rows` texts (a 100,000-page site has
    ~750,000 distinct texts)."""
    texts = sorted(signatures)
    for lo in range(0, max(len(texts), 1), slice_rows):
        part = texts[lo : lo + slice_rows]
        yield pa.Table.from_pydict(
            {
                "text": part,
                "signature": _signature_column([signatures[t] for t in part]),
                "key": [keys[t] for t in part],
            },
            schema=TEXTS_STATE,
        )


def read_texts(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    t = pq.read_table(path, schema=TEXTS_STATE)
    texts = t.column("text").to_pylist()
    sigs = np.frombuffer(b"".join(t.column("signature").to_pylist()), dtype="<u4").astype(np.uint32)
    sigs = sigs.reshape(len(texts), -1) if texts else sigs.reshape(0, 0)
    return dict(zip(texts, sigs)), dict(zip(texts, t.column("key").to_pylist()))


def stats_table(model: SiteModel, ids: list[str] | None = None) -> pa.Table:
    ids = sorted(model.stats) if ids is None else ids
    st = [model.stats[c] for c in ids]
    return pa.Table.from_pydict(
        {
            "cluster_id": ids,
            "n_pages": [s.n_pages for s in st],
            "dateline": [s.dateline for s in st],
            "tag_path": [s.tag_path for s in st],
            "variants": [[{"text": t, "count": c} for t, c in sorted(s.variants.items())] for s in st],
            "norms": [sorted(s.norms) for s in st],
            "key": [s.key for s in st],
        },
        schema=STATS_STATE,
    )


def read_stats_rows(table: pa.Table) -> dict[str, ClusterStats]:
    t = table.to_pydict()
    return {
        cid: ClusterStats(n, d, tp, Counter({v["text"]: v["count"] for v in vs}), set(ns), k)
        for cid, n, d, tp, vs, ns, k in zip(
            t["cluster_id"], t["n_pages"], t["dateline"], t["tag_path"], t["variants"], t["norms"], t["key"]
        )
    }


# -- meta -----------------------------------------------------------------------------------------------
def write_meta(path: Path, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))


def read_meta(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}
