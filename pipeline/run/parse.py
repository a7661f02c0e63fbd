"""Step 2, parse: a folder's new and changed pages parsed `limits.parse_chunk` at a time (kept as
compact state tables, not objects), then its layout samples settled by site: pages that the site's
count puts in the sample but that were parsed without the extractor (new ones, or unchanged ones
never extracted) are parsed again with it. Touches disk (reads raw/, spills block rows into the
staged version)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.acquire.files import load
from pipeline.acquire.load import make_doc_id, stub_page
from pipeline.acquire.sample import in_sample, take_into_sample
from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.locations import Location
from pipeline.memory import gc_paused
from pipeline.records import Page, ParsedPage, RawInput, Skipped
from pipeline.run.plan import FolderPlan
from pipeline.schemas import BLOCKS_STATE, PAGES_STATE
from pipeline.store.state import ParsedTables
from pipeline.store.state_layout import folder_parts

# a batch of inputs -> a function that waits for their state rows (ParsePool.submit, or a flow task)
SubmitFn = Callable[[list[RawInput]], Callable[[], ParsedTables]]


@dataclass
class StartedChunk:
    """A chunk of a folder's pages queued for parsing ahead of time: its tables when `tables()`
    returns, and the pages that could not be read (no parse needed)."""

    tables: Callable[[], ParsedTables]
    unreadable: list[tuple[Page, Skipped]]


class FolderParse:
    """A folder's parse so far: page rows in memory (small); block rows in memory up to
    `held_bytes`, in part files on disk beyond, so a folder of any size parses in bounded memory and
    one of a chunk or two is never written twice."""

    def __init__(self, parts_dir: Path, held_bytes: int) -> None:
        self.parts_dir, self.held_bytes = parts_dir, held_bytes
        self._pages: list[pa.Table] = []
        self._parts: list[pa.Table | Path | None] = []  # block rows per parse chunk: held, or spilled
        self._held = 0  # bytes of the held ones
        self._drops: list[tuple[int, pa.Array]] = []  # (parts added before, doc ids dropped from them)
        self.flags: dict[str, bool] = {}  # doc_id -> in its site's sample (settled after parsing)
        self.for_append: dict[str, ParsedPage] = {}  # new pages of known sites (see FolderParser)

    def add(self, parsed: ParsedTables) -> None:
        self._pages.append(parsed.pages)
        self._parts.append(parsed.blocks)
        self._held += parsed.blocks.nbytes
        if self._held > self.held_bytes:
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
        rows: list[tuple[str, str, str, bool]] = []
        for t in self._pages:
            t = t.filter(pc.is_null(t["skip_reason"]))
            rows += zip(*(t.column(c).to_pylist() for c in ("doc_id", "site", "content_hash", "in_sample")))
        return rows

    def site_sizes(self) -> Counter:
        """Pages of each site parsed so far, skipped ones included: the count its sample group had
        before parsing, so a site that is its whole group keeps the sample its pages were parsed
        with (redirect stubs and empty pages would otherwise raise the rate and send pages through
        the extractor a second time)."""
        sizes: Counter = Counter()
        for t in self._pages:
            sizes.update(t.column("site").to_pylist())
        return sizes

    def pages_table(self) -> pa.Table:
        t = pa.concat_tables(self._pages) if self._pages else PAGES_STATE.empty_table()
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
                t = pq.read_table(part, schema=BLOCKS_STATE)
                part.unlink()
            else:
                assert part is not None
                t = part
            for added_before, ids in self._drops:
                if i < added_before:
                    t = t.filter(pc.invert(pc.is_in(t["doc_id"], ids)))
            yield t
        if self.parts_dir.is_dir():
            self.parts_dir.rmdir()


@dataclass
class FolderParsed:
    """A folder once parsed: its plan, its parse, and what settling the samples decided."""

    plan: FolderPlan
    done: FolderParse
    flags: dict[str, bool] = field(default_factory=dict)  # unchanged page -> in its layout sample now
    flipped_sites: set[str] = field(default_factory=set)  # sites of pages whose sample flag changed
    modified_sites: set[str] = field(default_factory=set)  # sites that must be re-learned (not appended)
    counts: Counter = field(default_factory=Counter)  # parsed, parsed_again, resampled


class FolderParser:
    """Parses the run's folders one after the other. It holds what spans folders: the budget of new
    pages kept as objects for the append path (`limits.append_max_blocks` blocks in all)."""

    def __init__(
        self,
        raw_root: Location,
        version_dir: Path,
        cfg: PipelineConfig,
        limits: ResourceLimits,
        known_sites: set[str],
    ):
        self.raw_root, self.version_dir, self.cfg, self.limits = raw_root, version_dir, cfg, limits
        self.known_sites = known_sites
        self._append_blocks = 0

    def start(self, plan: FolderPlan, submit: SubmitFn) -> StartedChunk | None:
        """Queue the folder's first chunk for the workers now, before the folder ahead of it is
        finished: otherwise both workers wait while a folder's last batch runs and the next folder
        is listed and read."""
        if not plan.to_parse:
            return None
        batch, unreadable = self._loaded(plan.to_parse[: self.limits.parse_chunk])
        return StartedChunk(submit(batch), unreadable)

    def parse(self, plan: FolderPlan, started: StartedChunk | None, submit: SubmitFn) -> FolderParsed:
        out = FolderParsed(
            plan, FolderParse(self.version_dir / folder_parts(plan.folder), self.limits.held_block_bytes)
        )
        self._parse_into(out, plan.to_parse, submit, started)
        known, parsed = plan.known, out.done.parsed_pages()
        sites = out.done.site_sizes()
        sites.update(known[d].site for d in plan.unchanged)
        flags, again_ids = take_into_sample(parsed, sites, self.cfg.extract.sample_size)
        out.done.flags.update(flags)
        raws = {make_doc_id(r.site_hint, r.identity): r for r in plan.to_parse}
        again = [replace(raws[d], in_sample=True) for d in again_ids]
        again += self._resample_unchanged(out, sites)
        out.counts["parsed_again"] += len(again)
        out.done.drop({make_doc_id(r.site_hint, r.identity) for r in again})
        self._parse_into(out, again, submit)
        out.counts["parsed"] = len(plan.to_parse) + out.counts["resampled"]
        return out

    def _loaded(self, inputs: list[RawInput]) -> tuple[list[RawInput], list[tuple[Page, Skipped]]]:
        """The inputs with their bytes, and (stub page, Skipped) for those that cannot be read now."""
        batch, unreadable = [], []
        for raw in inputs:
            loaded = load(self.raw_root, raw, self.cfg.load)
            if isinstance(loaded, Skipped):
                unreadable.append((stub_page(raw), loaded))
            else:
                batch.append(loaded)
        return batch, unreadable

    def _parse_into(
        self, out: FolderParsed, inputs: list[RawInput], submit: SubmitFn, started: StartedChunk | None = None
    ) -> None:
        step = self.limits.parse_chunk
        for lo in range(0, len(inputs), step):
            with gc_paused():
                if lo == 0 and started is not None:
                    tables, unreadable = started.tables(), started.unreadable
                else:
                    batch, unreadable = self._loaded(inputs[lo : lo + step])
                    tables = submit(batch)()
                if unreadable:  # rare: no empty tables built for every chunk
                    tables = ParsedTables.concat([tables, ParsedTables.of([], unreadable)])
                self._keep_for_append(out, tables)
                out.done.add(tables)

    def _keep_for_append(self, out: FolderParsed, parsed: ParsedTables) -> None:
        """A new page of a known site may only need appending to its model: keep it (up to a bound)."""
        ok = parsed.pages.filter(pc.is_null(parsed.pages["skip_reason"]))
        keep: list[str] = []
        n_blocks: Counter | None = None
        for doc_id, site in zip(ok.column("doc_id").to_pylist(), ok.column("site").to_pylist()):
            if site in self.known_sites:
                if n_blocks is None:
                    n_blocks = Counter(parsed.blocks.column("doc_id").to_pylist())
                if self._append_blocks + n_blocks[doc_id] <= self.limits.append_max_blocks:
                    keep.append(doc_id)
                    self._append_blocks += n_blocks[doc_id]
                    continue
            out.modified_sites.add(site)  # a new site, or too much to hold: re-learn it
        for page in parsed.parsed_pages(keep) if keep else []:
            out.done.for_append[page.page.doc_id] = page

    def _resample_unchanged(self, out: FolderParsed, sites: Counter) -> list[RawInput]:
        """Sample flags of the unchanged pages by their site's count now; returns the ones to parse again
        with the extractor (entering the sample, never extracted). A page whose flag flips changes its
        site's layout model, so the site is re-learned."""
        plan, size = out.plan, self.cfg.extract.sample_size
        again: list[RawInput] = []
        for doc_id in sorted(plan.unchanged):
            old = plan.known[doc_id]
            if old.in_sample is None:  # a page that could not be parsed: nothing to sample
                continue
            flag = in_sample(old.content_hash, sites[old.site], size)
            if flag != old.in_sample:
                out.flipped_sites.add(old.site)
            if flag and old.extractor == "segmented":
                raw = plan.reread[doc_id]()
                if isinstance(raw, RawInput):
                    again.append(replace(raw, in_sample=True))
                    plan.unchanged.discard(doc_id)
                    out.counts["resampled"] += 1
                    continue
            out.flags[doc_id] = flag
        return again
