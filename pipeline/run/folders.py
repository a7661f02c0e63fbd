"""Steps 1-2 over the whole raw root: every folder planned, parsed and its page state written, the next
folder listed and its first chunk queued while one is parsed (so the workers never wait between
folders). What comes out, RunFolders, is all that the site step needs. Touches disk."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.config import PipelineConfig, ResourceLimits
from pipeline.locations import Location
from pipeline.records import ParsedPage, Skipped
from pipeline.run.parse import FolderParsed, FolderParser, SubmitFn
from pipeline.run.plan import FolderPlan, gone_folders, plan_folders
from pipeline.run.previous import PreviousRun
from pipeline.schemas import BLOCKS_STATE, PAGES_STATE
from pipeline.store.parquet import StagedVersion
from pipeline.store.state_layout import folder_blocks, folder_pages


@dataclass
class RunFolders:
    """What the raw folders of a run gave: page counts, skipped inputs, which folders each site's pages
    are in, which sites changed (re-learn or append) and which were modified (re-learn only), and the
    new pages of known sites kept as objects for the append path."""

    counts: Counter = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    site_folders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    changed_sites: set[str] = field(default_factory=set)
    modified_sites: set[str] = field(default_factory=set)
    new_pages: dict[str, list[ParsedPage]] = field(default_factory=lambda: defaultdict(list))

    def sites(self) -> list[str]:
        return sorted(self.site_folders)


FolderHook = Callable[[FolderPlan], None]


def parse_folders(
    raw_root: Location,
    version: StagedVersion,
    previous: PreviousRun,
    cfg: PipelineConfig,
    limits: ResourceLimits,
    submit: SubmitFn,
    on_folder: FolderHook | None = None,
    on_listed: FolderHook | None = None,
) -> RunFolders:
    """Plan, parse and write the page state of every folder; `on_listed(plan)` hears of each folder
    listed, `on_folder(plan)` of each one done (logs, progress)."""
    result = RunFolders()
    parser = FolderParser(raw_root, version.dir, cfg, limits, set(previous.sites))
    seen: set[str] = set()
    plans = plan_folders(raw_root, cfg, previous)
    if on_listed is not None:
        plans = _told(plans, on_listed)
    plan = next(plans, None)
    started = parser.start(plan, submit) if plan is not None else None
    while plan is not None:
        following = next(plans, None)
        started_next = parser.start(following, submit) if following is not None else None
        seen.add(plan.folder)
        write_folder_state(parser.parse(plan, started, submit), version, previous, result)
        if on_folder is not None:
            on_folder(plan)
        plan, started = following, started_next
    for sites in gone_folders(previous, seen).values():  # their pages are removed, their sites change
        result.counts["removed"] += len(sites)
        result.changed_sites |= set(sites)
        result.modified_sites |= set(sites)
    return result


def _told(plans: Iterator[FolderPlan], hook: FolderHook) -> Iterator[FolderPlan]:
    for plan in plans:
        hook(plan)
        yield plan


def write_folder_state(
    parsed: FolderParsed, version: StagedVersion, previous: PreviousRun, result: RunFolders
) -> None:
    """The folder's page state (last run's rows of unchanged pages plus the new parse), hard-linked
    from the last run when nothing of the folder changed; its outcome added to `result`."""
    plan, done = parsed.plan, parsed.done
    result.counts.update(plan.counts)
    result.counts.update(parsed.counts)
    pages_rel, blocks_rel = folder_pages(plan.folder), folder_blocks(plan.folder)
    changed = bool(plan.to_parse or plan.removed or parsed.flipped_sites)  # a resampled page flips too
    prev = previous.folder_state(plan.folder)
    if changed or not prev or not (version.reuse(pages_rel) and version.reuse(blocks_rel)):
        pages_t = done.pages_table()
        keep = pa.array(sorted(plan.unchanged), pa.string()) if prev and plan.unchanged else None
        if prev is not None and keep is not None:
            old_p = pq.read_table(prev[0], schema=PAGES_STATE)
            old_p = old_p.filter(pc.is_in(old_p["doc_id"], keep))
            flags = pa.array([parsed.flags.get(d) for d in old_p.column("doc_id").to_pylist()], pa.bool_())
            old_p = old_p.set_column(old_p.schema.get_field_index("in_sample"), "in_sample", flags)
            pages_t = pa.concat_tables([old_p, pages_t])
        version.write_state(pages_rel, pages_t)
        with version.state_writer(blocks_rel, BLOCKS_STATE) as write:
            if prev is not None and keep is not None:  # last run's blocks of unchanged pages, streamed
                for batch in pq.ParquetFile(prev[1]).iter_batches(batch_size=1 << 16):
                    t = pa.Table.from_batches([batch]).cast(BLOCKS_STATE)
                    write(t.filter(pc.is_in(t["doc_id"], keep)))
            for part in done.blocks_tables():
                write(part)
    else:
        pages_t = pq.read_table(
            version.staged(pages_rel), columns=["site", "skip_reason", "skip_detail", "source"]
        )
    cols = pages_t.select(["site", "skip_reason", "skip_detail", "source"]).to_pydict()
    sites_now = set(cols["site"])
    for site, reason in zip(cols["site"], cols["skip_reason"]):
        if reason is None:
            result.site_folders[site].add(plan.folder)
    if changed:
        result.changed_sites |= sites_now | plan.old_sites
        if plan.counts["changed"] or plan.removed:
            result.modified_sites |= sites_now | plan.old_sites
        result.modified_sites |= parsed.flipped_sites
    result.modified_sites |= parsed.modified_sites
    for page in done.for_append.values():
        page.in_sample = done.flags.get(page.page.doc_id, page.in_sample)
        result.new_pages[page.site].append(page)
    result.skipped += plan.load_skipped + [
        Skipped(site, source, reason, detail or "")
        for site, source, reason, detail in zip(
            cols["site"], cols["source"], cols["skip_reason"], cols["skip_detail"]
        )
        if reason is not None
    ]
