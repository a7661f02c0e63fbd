"""Step 1, plan: what changed since the last run, raw folder by raw folder. A folder's inputs are
listed and hashed (their bytes dropped once hashed), then compared with the last run's page index:
new and changed pages are to parse, unchanged ones carry their state rows over. Touches disk (lists
and reads raw/), never writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby

from pipeline.acquire.files import (
    DEFAULT_SITE,
    iter_raw_inputs,
    load,
    read_file_input,
    unload,
    unreadable_folders,
)
from pipeline.acquire.load import content_hash, make_doc_id
from pipeline.acquire.sample import in_sample, sample_group
from pipeline.config import LoadConfig, PipelineConfig
from pipeline.locations import Location
from pipeline.records import RawInput, Skipped, UnchangedFile
from pipeline.run.previous import PreviousRun, PrevPage

Reread = Callable[[], RawInput | Skipped]


@dataclass
class FolderPlan:
    """One raw folder's work: what to parse, what carries over, and what the last run knew of it."""

    folder: str
    to_parse: list[RawInput]
    unchanged: set[str]  # doc ids whose state rows carry over as they are
    load_skipped: list[Skipped]
    known: dict[str, PrevPage]  # the last run's pages of the folder
    reread: dict[str, Reread] = field(default_factory=dict)  # unchanged page -> its input, read again
    counts: Counter = field(default_factory=Counter)  # new, changed, unchanged, removed

    @property
    def removed(self) -> int:
        return self.counts["removed"]

    @property
    def old_sites(self) -> set[str]:
        return {p.site for p in self.known.values()}


def folder_of_path(source: str) -> str:
    """The raw folder a source path (or WARC record) belongs to."""
    return source.split("/", 1)[0] if "/" in source else DEFAULT_SITE


def folder_of(item: RawInput | Skipped | UnchangedFile) -> str:
    return folder_of_path(item.source)


def newest_records(inputs: list[RawInput]) -> tuple[list[RawInput], list[Skipped]]:
    """A URL crawled several times is one page: keep its newest WARC record (by WARC-Date, then
    file name), and record the older ones as superseded."""
    best: dict[tuple[str, str], RawInput] = {}
    for raw in inputs:
        key = (raw.site_hint, raw.identity)
        current = best.get(key)
        if current is None or (raw.record_date or "", raw.source) > (
            current.record_date or "",
            current.source,
        ):
            best[key] = raw
    kept = {id(r) for r in best.values()}
    superseded = [
        Skipped(
            r.site_hint,
            r.source,
            "superseded",
            f"newer record of {r.url} in {best[(r.site_hint, r.identity)].source}",
        )
        for r in inputs
        if id(r) not in kept
    ]
    return [r for r in inputs if id(r) in kept], superseded


def plan_folders(raw_root: Location, cfg: PipelineConfig, previous: PreviousRun) -> Iterator[FolderPlan]:
    """One FolderPlan per raw folder, in name order; holds only that folder's inputs. With
    `trust_file_stat`, a plain file whose size and mtime did not change is not even read (its content
    hash stands)."""
    index = previous.by_source

    def unchanged(source: str, stat: tuple[int, int]) -> bool:
        known = index.get(source)
        return known is not None and known[1] == stat and stat != (0, 0)

    check = unchanged if cfg.load.trust_file_stat and index else None
    for folder, items in groupby(iter_raw_inputs(raw_root, cfg.load, check), key=folder_of):
        yield _plan_folder(raw_root, folder, list(items), cfg, previous)


def _plan_folder(
    raw_root: Location,
    folder: str,
    listed: list[RawInput | Skipped | UnchangedFile],
    cfg: PipelineConfig,
    previous: PreviousRun,
) -> FolderPlan:
    digests: dict[str, str] = {}
    items = [_hashed_unloaded(i, digests) for i in listed]  # a folder's bytes are never all held
    latest, superseded = newest_records([i for i in items if isinstance(i, RawInput)])
    known = previous.pages_by_folder.get(folder, {})
    plan = FolderPlan(folder, [], set(), [i for i in items if isinstance(i, Skipped)] + superseded, known)
    plan.counts["inputs"] = len(items)
    stat_unchanged = [previous.by_source[i.source][0] for i in items if isinstance(i, UnchangedFile)]
    groups = Counter([sample_group(r) for r in latest] + [folder] * len(stat_unchanged))  # stat: plain files
    for doc_id in stat_unchanged:
        plan.counts["unchanged"] += 1
        plan.unchanged.add(doc_id)
        plan.reread[doc_id] = _file_rereader(raw_root, known[doc_id].source, cfg.load)
    for raw in latest:
        doc_id = make_doc_id(raw.site_hint, raw.identity)
        old = known.get(doc_id)
        if old is None or old.content_hash != digests[raw.source]:
            plan.counts["new" if old is None else "changed"] += 1
            # a page surely in its site's sample (a site is never larger than its group) is
            # extracted right away; the site count after parsing decides the rest
            flag = in_sample(digests[raw.source], groups[sample_group(raw)], cfg.extract.sample_size)
            plan.to_parse.append(replace(raw, in_sample=flag))
        else:
            plan.counts["unchanged"] += 1
            plan.unchanged.add(doc_id)
            plan.reread[doc_id] = _input_rereader(raw_root, raw, cfg.load)
    present = plan.unchanged | {make_doc_id(r.site_hint, r.identity) for r in latest}
    if unlisted := unreadable_folders(items):  # their pages stay as they were, not removed
        for doc_id, old in known.items():
            if doc_id not in present and old.source.startswith(unlisted):
                plan.counts["unchanged"] += 1
                plan.unchanged.add(doc_id)
                plan.reread[doc_id] = _unreadable(old)
        present = present | plan.unchanged
    plan.counts["removed"] = len(set(known) - present)
    return plan


def _file_rereader(raw_root: Location, source: str, cfg: LoadConfig) -> Reread:
    return lambda: read_file_input(raw_root, source, cfg)


def _input_rereader(raw_root: Location, raw: RawInput, cfg: LoadConfig) -> Reread:
    return lambda: load(raw_root, raw, cfg)


def _unreadable(old: PrevPage) -> Reread:
    return lambda: Skipped(old.site, old.source, "unreadable", "its folder cannot be listed")


def _hashed_unloaded(item: RawInput | Skipped | UnchangedFile, digests: dict[str, str]):
    """Record an input's content hash by source, then drop its bytes if it can be read again."""
    if isinstance(item, RawInput):
        digests[item.source] = content_hash(item.data)
        return unload(item)
    return item


def gone_folders(previous: PreviousRun, seen: set[str]) -> dict[str, list[str]]:
    """Folders of the last run that are not in raw/ any more -> the sites of their pages."""
    return {
        f: [p.site for p in previous.pages_by_folder[f].values()] for f in previous.folders() if f not in seen
    }
