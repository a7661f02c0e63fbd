"""Incremental processing: a run over raw/ that parses only new and changed pages (by content hash),
re-learns the boilerplate model only of sites whose pages changed, rewrites only those sites' files,
and gives exactly the tables a from-scratch run would. Memory is bounded by the chunks (PARSE_CHUNK
pages parsed at a time, SITE_CHUNK_PAGES built at a time) and the largest site's models, never by the
corpus or a whole folder's bytes.

Steps, each a method the Prefect flow wires into a task:
    run = IncrementalRun(raw, out, cfg)        # under RunLock(out)
    run.parse_all(lambda inputs: pool.submit(inputs, cfg))
                                               # raw/<folder> by folder: what to parse, what to reuse;
                                               # the next folder is queued while one is parsed
    for site in run.sites():
        run.build(site)                        # re-learn and write, or hard-link last run's files
    run.dedup()                                # document near-duplicates over all sites
    summary = run.commit()                     # skipped/, state, summary; switch to the new version
Touches disk (reads raw/, writes the staged version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import PIPELINE_VERSION
from pipeline.acquire.files import DEFAULT_SITE, iter_raw_inputs, load, read_file_input, unload
from pipeline.acquire.load import content_hash, make_doc_id, stub_page
from pipeline.acquire.sample import in_sample, sample_group, take_into_sample
from pipeline.clean.boilerplate import BoilerplateCluster
from pipeline.clean.layout import LayoutModel
from pipeline.clean.neardup import DocKey, cluster_documents, doc_signatures
from pipeline.clean.site import SiteResult, finish_pages, learn_site
from pipeline.config import PipelineConfig
from pipeline.memory import arrow_returns_memory, gc_paused, give_back_freed_memory
from pipeline.records import Document, Page, ParsedPage, RawInput, Skipped, UnchangedFile
from pipeline.run import newest_records
from pipeline.store import state
from pipeline.store.parquet import STATE_DIR, StagedVersion, Staging, site_file_name
from pipeline.store.tables import (
    blocks_table,
    boilerplate_table,
    documents_table,
    skipped_table,
    summary_counts,
    summary_from_counts,
)

PARSE_CHUNK = 1_000  # pages parsed before their results are packed into state tables
SITE_CHUNK_PAGES = 1_000  # pages of a site finished at once, as objects (~0.1 GB)
HELD_BLOCK_BYTES = (
    64 << 20
)  # a folder's parsed block rows held in memory up to this (~3,000 generated pages), on disk beyond
APPEND_MAX_BLOCKS = (
    500_000  # new blocks of a site that the append-only path holds in memory; beyond, re-learn
)

ParseFn = Callable[
    [list[RawInput]], state.ParsedTables
]  # a batch of inputs -> their state rows (parallel.ParsePool.parse)
SubmitFn = Callable[
    [list[RawInput]], Callable[[], state.ParsedTables]
]  # the same in two steps (ParsePool.submit)


@dataclass
class StartedChunk:
    """A chunk of a folder's pages queued for parsing ahead of time: its tables when `tables()`
    returns, and the pages that could not be read (no parse needed)."""

    tables: Callable[[], state.ParsedTables]
    unreadable: list[tuple[Page, Skipped]]


def folder_of_path(source: str) -> str:
    """The raw folder a source path (or WARC record) belongs to."""
    return source.split("/", 1)[0] if "/" in source else DEFAULT_SITE


def folder_of(item: RawInput | Skipped | UnchangedFile) -> str:
    return folder_of_path(item.source)


@dataclass
class FolderWork:
    folder: str
    to_parse: list[RawInput]
    unchanged: set[str]  # doc ids whose state rows carry over as they are
    load_skipped: list[Skipped]
    removed: int
    counts: Counter = field(default_factory=Counter)
    flags: dict[str, bool] = field(default_factory=dict)  # unchanged page -> in its layout sample now
    flipped_sites: set[str] = field(default_factory=set)  # sites of pages whose sample flag changed
    known: dict[str, PrevPage] = field(default_factory=dict)  # the last run's pages of the folder
    reread: dict[str, Callable[[], RawInput | Skipped]] = field(
        default_factory=dict
    )  # unchanged page -> its input
    started: StartedChunk | None = None  # the first PARSE_CHUNK of to_parse, already given to the workers

    @property
    def old_sites(self) -> set[str]:
        return {p.site for p in self.known.values()}


@dataclass(frozen=True)
class PrevPage:
    """What the last run's page state says of a page."""

    content_hash: str
    site: str
    source: str
    extractor: str | None
    in_sample: bool | None  # None: the page could not be parsed


class FolderParse:
    """A folder's parse so far: page rows in memory (small); block rows in memory up to
    HELD_BLOCK_BYTES, in part files on disk (in the staged version) beyond, so a folder of any size
    parses in bounded memory and one of a chunk or two is never written twice."""

    def __init__(self, parts_dir: Path) -> None:
        self.parts_dir = parts_dir
        self._pages: list[pa.Table] = []
        self._parts: list[pa.Table | Path] = []  # block rows per parse chunk: held, or spilled to a file
        self._held = 0  # bytes of the held ones
        self._drops: list[tuple[int, pa.Array]] = []  # (parts added before, doc ids dropped from them)
        self.flags: dict[str, bool] = {}  # doc_id -> in its site's sample (settled after parsing)
        self.for_append: dict[str, ParsedPage] = {}  # new pages of known sites (see finish_folder)

    def add(self, parsed: state.ParsedTables) -> None:
        self._pages.append(parsed.pages)
        self._parts.append(parsed.blocks)
        self._held += parsed.blocks.nbytes
        if self._held > HELD_BLOCK_BYTES:
            self._spill()

    def _spill(self) -> None:
        """Every held part to its own file."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for i, part in enumerate(self._parts):
            if isinstance(part, pa.Table):
                path = self.parts_dir / f"part-{i:05d}.parquet"
                pq.write_table(part, path, compression="zstd")
                self._parts[i] = path
        self._held = 0

    def drop(self, doc_ids: set[str]) -> None:
        """Forget these pages' rows so far (they are about to be parsed again)."""
        if not doc_ids:
            return
        ids = pa.array(sorted(doc_ids), pa.string())
        self._pages = [t.filter(pc.invert(pc.is_in(t["doc_id"], ids))) for t in self._pages]
        self._drops.append((len(self._parts), ids))
        for d in doc_ids:
            self.for_append.pop(d, None)

    def parsed_pages(self) -> list[tuple[str, str, str, bool]]:
        """(doc_id, site, content hash, in_sample) of every page parsed so far, as parsed."""
        rows = []
        for t in self._pages:
            t = t.filter(pc.is_null(t["skip_reason"]))
            rows += zip(*(t.column(c).to_pylist() for c in ("doc_id", "site", "content_hash", "in_sample")))
        return rows

    def pages_table(self) -> pa.Table:
        t = pa.concat_tables(self._pages) if self._pages else state.PAGES_STATE.empty_table()
        flags = [
            self.flags.get(d, s) if s is not None else None
            for d, s in zip(t.column("doc_id").to_pylist(), t.column("in_sample").to_pylist())
        ]
        return t.set_column(t.schema.get_field_index("in_sample"), "in_sample", pa.array(flags, pa.bool_()))

    def blocks_tables(self) -> Iterator[pa.Table]:
        """The block parts, one at a time, without the rows of pages dropped after they were added;
        each part file is deleted once read."""
        parts, self._parts, self._held = self._parts, [], 0
        for i in range(len(parts)):
            part, parts[i] = parts[i], None  # a held part is freed once written out
            if isinstance(part, Path):
                t = pq.read_table(part, schema=state.BLOCKS_STATE)
                part.unlink()
            else:
                t = part
            for added_before, ids in self._drops:
                if i < added_before:
                    t = t.filter(pc.invert(pc.is_in(t["doc_id"], ids)))
            yield t
        if self.parts_dir.is_dir():
            self.parts_dir.rmdir()


class IncrementalRun:
    def __init__(self, raw: Path, out: Path, cfg: PipelineConfig):
        if not raw.is_dir():
            raise FileNotFoundError(f"raw folder {raw} does not exist")
        self.raw, self.out, self.cfg = raw, out, cfg
        arrow_returns_memory()
        self.staging = Staging(out, cfg)
        prev = self.staging.previous
        self.prev_meta = state.read_meta(prev / STATE_DIR) if prev else {}
        self.parse_fp = cfg.parse_fingerprint(PIPELINE_VERSION)
        self.model_fp = cfg.model_fingerprint(PIPELINE_VERSION)
        self.parse_ok = self.prev_meta.get("parse_fingerprint") == self.parse_fp
        self.model_ok = self.prev_meta.get("model_fingerprint") == self.model_fp
        self.now = dt.datetime.now(dt.UTC)
        self.counts: Counter = Counter()
        self.skipped: list[Skipped] = []
        self.changed_sites: set[str] = set()
        self.site_folders: dict[str, set[str]] = defaultdict(set)
        self.site_summaries: dict[str, dict] = {}
        self.doc_keys: list[DocKey] = []
        self.doc_sigs: list[np.ndarray] = []
        self.doc_site: dict[str, str] = {}
        self.n_inputs = 0
        self.n_dup_clusters = 0
        self.seen_folders: set[str] = set()
        self.modified_sites: set[str] = set()  # sites with changed or removed pages (not only new ones)
        self._new_pages: dict[str, list[ParsedPage]] = defaultdict(list)
        self._new_blocks = 0
        self.site_modes: dict[str, str] = {}

    # -- phase 1: folders --------------------------------------------------------------------------
    def _prev_state(self, folder: str) -> tuple[Path, Path] | None:
        if not self.parse_ok:
            return None
        pages = self.staging.previous_path(f"{STATE_DIR}/parsed/{folder}.pages.parquet")
        blocks = self.staging.previous_path(f"{STATE_DIR}/parsed/{folder}.blocks.parquet")
        return (pages, blocks) if pages and blocks else None

    def _prev_index(self) -> tuple[dict[str, tuple[str, tuple[int, int]]], dict[str, dict[str, PrevPage]]]:
        """From the last run's page state, read once: source -> (doc_id, (size, mtime_ns)), and per
        folder doc_id -> what the run knew of the page."""
        by_source: dict[str, tuple[str, tuple[int, int]]] = {}
        by_folder: dict[str, dict[str, PrevPage]] = defaultdict(dict)
        parsed_dir = self.staging.previous / STATE_DIR / "parsed" if self.staging.previous else None
        if not self.parse_ok or parsed_dir is None or not parsed_dir.is_dir():
            return by_source, by_folder
        for f in sorted(parsed_dir.glob("*.pages.parquet")):
            folder = f.name[: -len(".pages.parquet")]
            t = pq.read_table(
                f,
                columns=[
                    "source",
                    "doc_id",
                    "content_hash",
                    "site",
                    "file_size",
                    "file_mtime_ns",
                    "extractor",
                    "in_sample",
                ],
            ).to_pydict()
            for src, d, h, site, size, mtime, extractor, sampled in zip(*t.values()):
                by_source[src] = (d, (size or 0, mtime or 0))
                by_folder[folder][d] = PrevPage(h, site, src, extractor, sampled)
        return by_source, by_folder

    def folders(self) -> Iterator[FolderWork]:
        """One FolderWork per raw folder, in name order; holds only that folder's inputs. Only the
        last run's page index is read here, never its blocks; with `trust_file_stat`, a plain file
        whose size and mtime did not change is not even read (its content hash stands)."""
        index, known_by_folder = self._prev_index()

        def unchanged(source: str, stat: tuple[int, int]) -> bool:
            known = index.get(source)
            return known is not None and known[1] == stat and stat != (0, 0)

        check = unchanged if self.cfg.load.trust_file_stat and index else None
        for folder, items in groupby(iter_raw_inputs(self.raw, self.cfg.load, check), key=folder_of):
            digests: dict[str, str] = {}
            items = [_hashed_unloaded(i, digests) for i in items]  # a folder's bytes are never all held
            self.seen_folders.add(folder)
            self.n_inputs += len(items)
            inputs = [i for i in items if isinstance(i, RawInput)]
            latest, superseded = newest_records(inputs)
            known = known_by_folder.get(folder, {})
            work = FolderWork(
                folder, [], set(), [i for i in items if isinstance(i, Skipped)] + superseded, 0, known=known
            )
            stat_unchanged = [index[i.source][0] for i in items if isinstance(i, UnchangedFile)]
            groups = Counter(
                [sample_group(r) for r in latest] + [folder] * len(stat_unchanged)
            )  # stat: plain files
            for doc_id in stat_unchanged:
                work.counts["unchanged"] += 1
                work.unchanged.add(doc_id)
                work.reread[doc_id] = lambda source=known[doc_id].source: read_file_input(
                    self.raw, source, self.cfg.load
                )
            for raw in latest:
                doc_id = make_doc_id(raw.site_hint, raw.identity)
                old = known.get(doc_id)
                digest = digests[raw.source]
                if old is None or old.content_hash != digest:
                    work.counts["new" if old is None else "changed"] += 1
                    # a page surely in its site's sample (a site is never larger than its group) is
                    # extracted right away; the site count after parsing decides the rest
                    flag = in_sample(digest, groups[sample_group(raw)], self.cfg.extract.sample_size)
                    work.to_parse.append(replace(raw, in_sample=flag))
                else:
                    work.counts["unchanged"] += 1
                    work.unchanged.add(doc_id)
                    work.reread[doc_id] = lambda raw=raw: load(self.raw, raw, self.cfg.load)
            present = work.unchanged | {make_doc_id(r.site_hint, r.identity) for r in latest}
            work.removed = len(set(known) - present)
            work.counts["removed"] = work.removed
            yield work
        self._folders_gone()

    def parse_folder(self, work: FolderWork, parse: ParseFn) -> FolderParse:
        """Parse the folder's new and changed pages, PARSE_CHUNK at a time (kept as compact state
        tables, not objects), then settle its layout samples by site: pages the site's count puts in
        the sample that were parsed without the extractor (new ones, or unchanged ones never
        extracted) are parsed again with it."""
        done = FolderParse(self.staging.dir / STATE_DIR / "parsed" / f".{work.folder}.parts")
        self._parse_into(done, work.to_parse, parse, work.started)
        work.started = None
        known, parsed = work.known, done.parsed_pages()
        sites = Counter(site for _, site, _, _ in parsed)
        sites.update(known[d].site for d in work.unchanged if known[d].in_sample is not None)
        flags, again_ids = take_into_sample(parsed, sites, self.cfg.extract.sample_size)
        done.flags.update(flags)
        raws = {make_doc_id(r.site_hint, r.identity): r for r in work.to_parse}
        again = [replace(raws[d], in_sample=True) for d in again_ids]
        again += self._resample_unchanged(work, sites)
        work.counts["parsed_again"] += len(again)
        done.drop({make_doc_id(r.site_hint, r.identity) for r in again})
        self._parse_into(done, again, parse)
        return done

    def start_parse(self, work: FolderWork, submit: SubmitFn) -> None:
        """Queue the folder's first chunk for the workers now, before the folder ahead of it is
        finished: otherwise both workers wait while a folder's last batch runs and the next folder
        is listed and read (~0.1 s a folder, 1 s of 9 on ten 100-page sites)."""
        if work.to_parse:
            batch, unreadable = self._loaded(work.to_parse[:PARSE_CHUNK])
            work.started = StartedChunk(submit(batch), unreadable)

    def _loaded(self, inputs: list[RawInput]) -> tuple[list[RawInput], list[tuple[Page, Skipped]]]:
        """The inputs with their bytes, and (stub page, Skipped) for those that cannot be read now."""
        batch, unreadable = [], []
        for raw in inputs:
            loaded = load(self.raw, raw, self.cfg.load)
            if isinstance(loaded, Skipped):
                unreadable.append((stub_page(raw), loaded))
            else:
                batch.append(loaded)
        return batch, unreadable

    def _parse_into(
        self, done: FolderParse, inputs: list[RawInput], parse: ParseFn, started: StartedChunk | None = None
    ) -> None:
        for lo in range(0, len(inputs), PARSE_CHUNK):
            with gc_paused():
                if lo == 0 and started is not None:
                    tables, unreadable = started.tables(), started.unreadable
                else:
                    batch, unreadable = self._loaded(inputs[lo : lo + PARSE_CHUNK])
                    tables = parse(batch)
                if unreadable:  # rare: no empty tables built for every chunk
                    tables = state.ParsedTables.concat([tables, state.ParsedTables.of([], unreadable)])
                self._keep_for_append(done, tables)
                done.add(tables)

    def _keep_for_append(self, done: FolderParse, parsed: state.ParsedTables) -> None:
        """A new page of a known site may only need appending to its model: keep it (up to a bound)."""
        ok = parsed.pages.filter(pc.is_null(parsed.pages["skip_reason"]))
        known_sites = self.prev_meta.get("sites", {})
        keep: list[str] = []
        n_blocks = None
        for doc_id, site in zip(ok.column("doc_id").to_pylist(), ok.column("site").to_pylist()):
            if site in known_sites:
                if n_blocks is None:
                    n_blocks = Counter(parsed.blocks.column("doc_id").to_pylist())
                if self._new_blocks + n_blocks[doc_id] <= APPEND_MAX_BLOCKS:
                    keep.append(doc_id)
                    self._new_blocks += n_blocks[doc_id]
                    continue
            self.modified_sites.add(site)  # a new site, or too much to hold: re-learn it
        for page in parsed.parsed_pages(keep) if keep else []:
            done.for_append[page.page.doc_id] = page

    def _resample_unchanged(self, work: FolderWork, sites: Counter) -> list[RawInput]:
        """Sample flags of the unchanged pages by their site's count now; returns the ones to parse again
        with the extractor (entering the sample, never extracted). A page whose flag flips changes its
        site's layout model, so the site is re-learned."""
        size = self.cfg.extract.sample_size
        known = work.known
        again: list[RawInput] = []
        for doc_id in sorted(work.unchanged):
            old = known[doc_id]
            if old.in_sample is None:  # a page that could not be parsed: nothing to sample
                continue
            flag = in_sample(old.content_hash, sites[old.site], size)
            if flag != old.in_sample:
                work.flipped_sites.add(old.site)
            if flag and old.extractor == "segmented":
                raw = work.reread[doc_id]()
                if isinstance(raw, RawInput):
                    again.append(replace(raw, in_sample=True))
                    work.unchanged.discard(doc_id)
                    work.counts["resampled"] += 1
                    continue
            work.flags[doc_id] = flag
        return again

    def parse_all(
        self,
        submit: SubmitFn,
        on_folder: Callable[[FolderWork], None] | None = None,
        on_listed: Callable[[FolderWork], None] | None = None,
    ) -> None:
        """folders(), parse_folder() and finish_folder() for every folder, with the next folder
        listed and its first chunk queued (start_parse) while this one is parsed; `on_listed(work)`
        hears of every folder listed, `on_folder(work)` of every folder finished (logs, progress)."""
        folders = self.folders()
        work = next(folders, None)
        if work is not None:
            if on_listed is not None:
                on_listed(work)
            self.start_parse(work, submit)
        while work is not None:
            following = next(folders, None)
            if following is not None:
                if on_listed is not None:
                    on_listed(following)
                self.start_parse(following, submit)
            self.finish_folder(work, self.parse_folder(work, lambda inputs: submit(inputs)()))
            if on_folder is not None:
                on_folder(work)
            work = following

    def _folders_gone(self) -> None:
        """Folders of the last run that are gone: their pages are removed, their sites change."""
        if not self.parse_ok or self.staging.previous is None:
            return
        parsed_dir = self.staging.previous / STATE_DIR / "parsed"
        for pages_file in sorted(parsed_dir.glob("*.pages.parquet")) if parsed_dir.is_dir() else []:
            folder = pages_file.name[: -len(".pages.parquet")]
            if folder not in self.seen_folders:
                gone = pq.read_table(pages_file, columns=["site"]).column("site").to_pylist()
                self.counts["removed"] += len(gone)
                self.changed_sites |= set(gone)
                self.modified_sites |= set(gone)

    def finish_folder(self, work: FolderWork, done: FolderParse) -> None:
        """Write the folder's page state: last run's rows of unchanged pages plus the new parse."""
        self.counts.update(work.counts)
        self.counts["parsed"] += len(work.to_parse) + work.counts["resampled"]
        rel = f"parsed/{work.folder}"
        changed = bool(work.to_parse or work.removed or work.flipped_sites)  # a resampled page flips too
        prev = self._prev_state(work.folder)
        if (
            changed
            or not prev
            or not (
                self.staging.reuse(f"{STATE_DIR}/{rel}.pages.parquet")
                and self.staging.reuse(f"{STATE_DIR}/{rel}.blocks.parquet")
            )
        ):
            pages_t = done.pages_table()
            keep = pa.array(sorted(work.unchanged), pa.string()) if prev and work.unchanged else None
            if keep is not None:
                old_p = pq.read_table(prev[0], schema=state.PAGES_STATE)
                old_p = old_p.filter(pc.is_in(old_p["doc_id"], keep))
                flags = pa.array([work.flags.get(d) for d in old_p.column("doc_id").to_pylist()], pa.bool_())
                old_p = old_p.set_column(old_p.schema.get_field_index("in_sample"), "in_sample", flags)
                pages_t = pa.concat_tables([old_p, pages_t])
            self.staging.write_state(f"{rel}.pages.parquet", pages_t)
            with self.staging.state_writer(f"{rel}.blocks.parquet", state.BLOCKS_STATE) as write:
                if keep is not None:  # last run's blocks of unchanged pages, streamed
                    for batch in pq.ParquetFile(prev[1]).iter_batches(batch_size=1 << 16):
                        t = pa.Table.from_batches([batch]).cast(state.BLOCKS_STATE)
                        write(t.filter(pc.is_in(t["doc_id"], keep)))
                for part in done.blocks_tables():
                    write(part)
        else:
            pages_t = pq.read_table(
                self.staging.staged(f"{STATE_DIR}/{rel}.pages.parquet"),
                columns=["site", "skip_reason", "skip_detail", "source"],
            )
        cols = pages_t.select(["site", "skip_reason", "skip_detail", "source"]).to_pydict()
        sites_now = set(cols["site"])
        for site, reason in zip(cols["site"], cols["skip_reason"]):
            if reason is None:
                self.site_folders[site].add(work.folder)
        if changed:
            self.changed_sites |= sites_now | work.old_sites
            if work.counts["changed"] or work.removed:
                self.modified_sites |= sites_now | work.old_sites
            self.modified_sites |= work.flipped_sites
        for page in done.for_append.values():
            page.in_sample = done.flags.get(page.page.doc_id, page.in_sample)
            self._new_pages[page.site].append(page)
        self.skipped += work.load_skipped + [
            Skipped(site, source, reason, detail or "")
            for site, source, reason, detail in zip(
                cols["site"], cols["source"], cols["skip_reason"], cols["skip_detail"]
            )
            if reason is not None
        ]

    # -- phase 2: sites ----------------------------------------------------------------------------
    def sites(self) -> list[str]:
        return sorted(self.site_folders)

    def job(self, site: str) -> SiteJob:
        """Everything one site's build needs, as plain values (it may run on another process)."""
        files = site_files(site)
        known_before = (
            self.model_ok
            and site in self.prev_meta.get("sites", {})
            and all(self.staging.previous_path(f) for f in files.values())
        )
        reuse = known_before and site not in self.changed_sites
        new_pages = self._new_pages.get(site, [])
        append_only = (
            known_before
            and not reuse
            and site not in self.modified_sites
            and bool(new_pages)
            and self.cfg.boilerplate.by_region
        )
        return SiteJob(
            site=site,
            cfg=self.cfg,
            version=self.staging.view(),
            folders=tuple(sorted(self.site_folders[site])),
            reuse=reuse,
            model_ok=self.model_ok,
            prev_summary=self.prev_meta.get("sites", {}).get(site),
            now=self.now,
            new_pages=tuple(new_pages) if append_only else None,
        )

    def merge(self, built: SiteBuilt) -> dict:
        self.site_summaries[built.site] = built.summary
        self.site_modes[built.site] = built.mode
        for key, sig in zip(built.keys, built.sigs):
            self.doc_keys.append(key)
            self.doc_sigs.append(sig)
            self.doc_site[key.doc_id] = built.site
        return built.summary

    def build(self, site: str) -> dict:
        """Re-learn and write one site here, or reuse last run's files when nothing of it changed."""
        return self.merge(build_site_job(self.job(site)))

    # -- phase 3: cross-site -----------------------------------------------------------------------
    def dedup(self) -> None:
        """Near-duplicate clusters over every site; a site file whose dup columns change is rewritten
        (a reused file is replaced, never written through its hard link)."""
        sigs = (
            np.stack(self.doc_sigs) if self.doc_sigs else np.empty((0, self.cfg.minhash.num_perm), np.uint32)
        )
        found = cluster_documents(self.doc_keys, sigs, self.cfg.dedup)
        self.n_dup_clusters = len({c for c, _ in found.values()})
        for site in self.sites():
            rel = site_files(site)["documents"]
            table = pq.read_table(self.staging.staged(rel))
            ids = table.column("doc_id").to_pylist()
            cluster = [found.get(i, (None, None))[0] for i in ids]
            dup_of = [found.get(i, (None, None))[1] for i in ids]
            if (
                cluster == table.column("dup_cluster").to_pylist()
                and dup_of == table.column("duplicate_of").to_pylist()
            ):
                continue
            table = table.set_column(
                table.schema.get_field_index("dup_cluster"), "dup_cluster", pa.array(cluster, pa.string())
            )
            table = table.set_column(
                table.schema.get_field_index("duplicate_of"), "duplicate_of", pa.array(dup_of, pa.string())
            )
            self.staging.write("documents", Path(rel).name, table)
        duplicates = Counter(self.doc_site[d] for d, (_, of) in found.items() if of is not None)
        for site, summary in self.site_summaries.items():
            summary["duplicate_pages"] = duplicates[site]

    def summary(self) -> dict:
        sites = [self.site_summaries[s] for s in self.sites()]
        return {
            "inputs": self.n_inputs,
            "pages": sum(s["pages"] for s in sites),
            "pages_new": self.counts["new"],
            "pages_changed": self.counts["changed"],
            "pages_unchanged": self.counts["unchanged"],
            "pages_removed": self.counts["removed"],
            "parsed": self.counts["parsed"],
            "parsed_again": self.counts["parsed_again"],
            "sites_rebuilt": sorted(
                s for s in self.sites() if self.site_modes.get(s) in ("rebuilt", "appended")
            ),
            "sites_appended": sorted(s for s in self.sites() if self.site_modes.get(s) == "appended"),
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(sorted(Counter(s.reason for s in self.skipped).items())),
            "duplicate_clusters": self.n_dup_clusters,
            "duplicate_pages": sum(s.get("duplicate_pages", 0) for s in sites),
            "sites": sites,
        }

    def commit(self) -> dict:
        if self.skipped:
            self.staging.write("skipped", "skipped.parquet", skipped_table(self.skipped))
        summary = self.summary()
        state.write_meta(
            self.staging.staged(STATE_DIR),
            {
                "pipeline_version": PIPELINE_VERSION,
                "parse_fingerprint": self.parse_fp,
                "model_fingerprint": self.model_fp,
                "config": self.cfg.to_dict(),
                "written_at": self.now.isoformat(),
                "sites": self.site_summaries,
            },
        )
        self.staging.commit(extra={"summary": summary, "config_fingerprint": self.cfg.fingerprint()})
        return summary


def _hashed_unloaded(item: RawInput | Skipped | UnchangedFile, digests: dict[str, str]):
    """Record an input's content hash by source, then drop its bytes if it can be read again."""
    if isinstance(item, RawInput):
        digests[item.source] = content_hash(item.data)
        return unload(item)
    return item


def site_files(site: str) -> dict[str, str]:
    """Where a site's output and state files live inside a run version."""
    name = site_file_name(site)
    stem = name[: -len(".parquet")]
    return {
        "documents": f"documents/{name}",
        "blocks": f"blocks/{name}",
        "boilerplate": f"boilerplate/{name}",
        "clusters": f"{STATE_DIR}/models/{stem}.clusters.parquet",
        "texts": f"{STATE_DIR}/models/{stem}.texts.parquet",
        "stats": f"{STATE_DIR}/models/{stem}.stats.parquet",
        "layout": f"{STATE_DIR}/models/{stem}.layout.parquet",
        "doc_index": f"{STATE_DIR}/doc_index/{name}",
    }


@dataclass(frozen=True)
class SiteJob:
    site: str
    cfg: PipelineConfig
    version: StagedVersion
    folders: tuple[str, ...]
    reuse: bool  # nothing of the site changed: hard-link last run's files
    model_ok: bool  # last run's signatures are valid for these settings
    prev_summary: dict | None
    now: dt.datetime
    new_pages: tuple[ParsedPage, ...] | None = None  # only pages were added: try appending them to the model


@dataclass
class SiteBuilt:
    site: str
    summary: dict
    keys: list[DocKey]
    sigs: list[np.ndarray]
    mode: str = "rebuilt"  # reused | appended | rebuilt


def build_site_job(job: SiteJob) -> SiteBuilt:
    """One site: hard-link last run's files when nothing changed; append new pages to last run's
    model when that changes nothing for the old pages; else re-learn it from all its pages. Touches
    only the site's own files, so sites can be built in parallel (processes, Dask)."""
    arrow_returns_memory()
    with gc_paused():
        return _build_site_job(job)


def _build_site_job(job: SiteJob) -> SiteBuilt:
    files, v = site_files(job.site), job.version
    if job.reuse:
        for f in files.values():
            v.reuse(f)
        index = state.read_signatures(v.staged(files["doc_index"]), "doc_id")
        docs = pq.read_table(
            v.staged(files["documents"]), columns=["doc_id", "published", "url", "source"]
        ).to_pylist()
        kept = [d for d in docs if d["doc_id"] in index]
        return SiteBuilt(
            job.site,
            dict(job.prev_summary),
            [DocKey(d["doc_id"], d["published"], d["url"], d["source"]) for d in kept],
            [index[d["doc_id"]][0] for d in kept],
            mode="reused",
        )
    known = {}
    if job.model_ok and (prev := v.previous_path(files["texts"])):
        known, _ = state.read_texts(prev)
    if job.new_pages is not None:
        from pipeline.append import append_pages

        appended = append_pages(job, files)
        if appended is not None:
            return appended
    reader = state.SitePages(
        [
            (Path(f"{stem}.pages.parquet"), Path(f"{stem}.blocks.parquet"))
            for stem in (v.staged(f"{STATE_DIR}/parsed/{folder}") for folder in job.folders)
        ],
        job.site,
        SITE_CHUNK_PAGES,
    )

    def texts_written(sigs: dict[str, np.ndarray], keys: dict[str, str]) -> None:
        _write_texts(job, files, sigs, keys)
        give_back_freed_memory()  # clustering's temporaries, before the counting allocates its own

    learned = learn_site(reader, job.cfg, known, texts_sink=texts_written)
    del known
    v.write(
        "boilerplate",
        Path(files["boilerplate"]).name,
        boilerplate_table(
            SiteResult(
                site=job.site, n_pages=learned.n_pages, documents=[], blocks=[], boilerplate=learned.clusters
            )
        ),
    )
    _write_clusters_and_stats(
        job, learned.clusters, files, learned.stats.state_tables(state.STATS_STATE, state.STATE_SLICE)
    )
    learned.stats = None  # written: finishing the pages needs only each block's cluster
    give_back_freed_memory()
    counts: Counter = Counter()
    indexer = DocIndexer(job, files)
    first_row = 0
    with (
        v.writer("documents", Path(files["documents"]).name) as write_docs,
        v.writer("blocks", Path(files["blocks"]).name) as write_blocks,
    ):
        for (
            pages
        ) in reader.chunks():  # finished here: on the workers it was slower (bench/RESULTS.md, session 5)
            documents = finish_pages(job.site, pages, learned, job.cfg, first_row)
            part = SiteResult(
                site=job.site,
                n_pages=len(pages),
                documents=documents,
                blocks=[(p.page.doc_id, b) for p in pages for b in p.blocks],
                boilerplate=[],
            )
            first_row += len(part.blocks)
            docs_t, blocks_t = documents_table(part, job.now), blocks_table(part)
            write_docs(docs_t)
            write_blocks(blocks_t)
            counts.update(summary_counts(docs_t, blocks_t))
            indexer.add(part.documents)
    del reader, part, pages
    _write_layout(job, learned.layout, files)  # after finishing: it records the layout paths it decided
    keys, sigs = indexer.finish()
    return SiteBuilt(job.site, summary_from_counts(job.site, counts, len(learned.clusters)), keys, sigs)


def _write_texts(
    job: SiteJob, files: dict[str, str], signatures: dict[str, np.ndarray], keys: dict[str, str]
) -> None:
    with job.version.state_writer(files["texts"][len(STATE_DIR) + 1 :], state.TEXTS_STATE) as write:
        for part in state.texts_tables(signatures, keys):
            write(part)


def _write_model(job: SiteJob, result: SiteResult, files: dict[str, str], stats: pa.Table) -> None:
    """The site's clusters, stats and layout model (its texts are written by _write_texts)."""
    _write_clusters_and_stats(job, result.boilerplate, files, [stats])
    _write_layout(job, result.layout, files)


def _write_clusters_and_stats(
    job: SiteJob,
    boilerplate: list[BoilerplateCluster],
    files: dict[str, str],
    stats_parts: Iterable[pa.Table],
) -> None:
    """The site's boilerplate clusters (first seen kept from the last run) and its clusters' stats."""
    v = job.version
    first_seen = {}
    if prev := v.previous_path(files["clusters"]):
        first_seen = dict(
            zip(*pq.read_table(prev, columns=["cluster_id", "first_seen"]).to_pydict().values())
        )
    clusters = pa.Table.from_pylist(
        [
            {
                "cluster_id": c.cluster_id,
                "text": c.text,
                "tag_path": c.tag_path,
                "n_pages": c.n_pages,
                "first_seen": first_seen.get(c.cluster_id, job.now),
                "last_seen": job.now,
            }
            for c in sorted(boilerplate, key=lambda c: c.cluster_id)
        ],
        schema=state.CLUSTERS_STATE,
    )
    v.write_state(files["clusters"][len(STATE_DIR) + 1 :], clusters)
    with v.state_writer(files["stats"][len(STATE_DIR) + 1 :], state.STATS_STATE) as write:
        for part in stats_parts:
            write(part)


def _write_layout(job: SiteJob, layout: LayoutModel | None, files: dict[str, str]) -> None:
    job.version.write_state(files["layout"][len(STATE_DIR) + 1 :], (layout or LayoutModel()).table())


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def write_doc_index(job: SiteJob, files: dict[str, str], index: dict[str, tuple[np.ndarray, str]]) -> None:
    """The site's document MinHash index: doc_id -> (signature, hash of the clean text it was made from)."""
    job.version.write_state(
        files["doc_index"][len(STATE_DIR) + 1 :],
        state.signatures_table(
            {d: sig for d, (sig, _) in index.items()},
            state.DOC_INDEX_STATE,
            "doc_id",
            extra={"text_hash": {d: h for d, (_, h) in index.items()}},
        ),
    )


def read_doc_index(path: Path | None) -> dict[str, tuple[np.ndarray, str]]:
    if path is None:
        return {}
    return {d: (sig, extra["text_hash"]) for d, (sig, extra) in state.read_signatures(path, "doc_id").items()}


class DocIndexer:
    """The site's document MinHash index, built chunk by chunk: a page whose clean text is as last
    time keeps its signature, the others are signed."""

    def __init__(self, job: SiteJob, files: dict[str, str]):
        self.job, self.files = job, files
        self.prev = read_doc_index(job.version.previous_path(files["doc_index"]) if job.model_ok else None)
        self.index: dict[str, tuple[np.ndarray, str]] = {}
        self.keys: list[DocKey] = []

    def add(self, documents: list[Document]) -> None:
        docs = [d for d in documents if d.text.strip()]
        hashes = {d.doc_id: text_hash(d.text) for d in docs}
        todo = [d for d in docs if d.doc_id not in self.prev or self.prev[d.doc_id][1] != hashes[d.doc_id]]
        fresh = dict(
            zip(
                (d.doc_id for d in todo),
                doc_signatures([d.text for d in todo], self.job.cfg.minhash, self.job.cfg.dedup),
            )
        )
        for d in docs:
            self.index[d.doc_id] = (
                fresh[d.doc_id] if d.doc_id in fresh else self.prev[d.doc_id][0],
                hashes[d.doc_id],
            )
            self.keys.append(DocKey(d.doc_id, d.published, d.url, d.source))

    def finish(self) -> tuple[list[DocKey], list[np.ndarray]]:
        write_doc_index(self.job, self.files, self.index)
        return self.keys, [self.index[k.doc_id][0] for k in self.keys]


def run_incremental(raw: Path, out: Path, cfg: PipelineConfig | None = None, workers: int = 0) -> dict:
    """The whole incremental run without Prefect (tests, benchmarks, scripts): same steps as the flow.
    workers > 0 parses on that many processes, with the per-page time limit, and re-learns sites
    side by side on them."""
    from pipeline.parallel import ParsePool, build_all_sites
    from pipeline.store.lock import RunLock

    cfg = cfg or PipelineConfig()
    with RunLock(out), ParsePool(workers) as pool:
        run = IncrementalRun(raw, out, cfg)
        run.parse_all(lambda inputs: pool.submit(inputs, cfg))
        build_all_sites(run, pool)
        run.dedup()
        return run.commit()
