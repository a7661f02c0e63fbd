"""The whole processing job as plain functions over records; flows/process.py wires the same steps
into Prefect tasks. Pure except load_inputs (reads raw files) and write_output (writes Parquet)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.acquire.files import iter_raw_inputs
from pipeline.acquire.load import make_doc_id, stub_page, to_page
from pipeline.acquire.sample import sample_inputs, take_into_sample
from pipeline.clean.neardup import mark_near_duplicates
from pipeline.clean.parse import parse_page
from pipeline.clean.site import SiteResult, build_site, site_summary
from pipeline.config import PipelineConfig
from pipeline.records import Page, ParsedPage, RawInput, Skipped
from pipeline.store.parquet import publish
from pipeline.store.tables import output_tables

ParseFn = Callable[[list[RawInput]], tuple[list[ParsedPage], list[tuple[Page, Skipped]]]]


@dataclass
class RunOutput:
    sites: list[SiteResult]
    skipped: list[Skipped]
    n_dup_clusters: int = 0
    n_inputs: int = 0
    summary: dict = field(default_factory=dict)


def load_inputs(raw_root: Path, cfg: PipelineConfig) -> tuple[list[RawInput], list[Skipped]]:
    """Every raw input below raw_root (reads disk). Missing root is an error, not an empty run."""
    if not raw_root.is_dir():
        raise FileNotFoundError(f"raw folder {raw_root} does not exist")
    inputs: list[RawInput] = []
    skipped: list[Skipped] = []
    for item in iter_raw_inputs(raw_root, cfg.load):
        (skipped if isinstance(item, Skipped) else inputs).append(item)
    latest, superseded = newest_records(inputs)
    return latest, skipped + superseded


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


def parse_for_state(
    inputs: list[RawInput], cfg: PipelineConfig
) -> tuple[list[ParsedPage], list[tuple[Page, Skipped]]]:
    """Parse pages; a page that cannot be used is kept with its reason (and content hash), so an
    unchanged bad page is not parsed again on the next run."""
    parsed: list[ParsedPage] = []
    failed: list[tuple[Page, Skipped]] = []
    for raw in inputs:
        page = to_page(raw)
        if isinstance(page, Skipped):
            failed.append((stub_page(raw), page))
            continue
        try:
            result = parse_page(page, cfg.extract, raw.in_sample)
        except (RecursionError, MemoryError, ValueError, TypeError, AttributeError, LookupError) as exc:
            result = Skipped(raw.site_hint, raw.source, "parse_error", f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(result, Skipped):
            failed.append((replace(page, content=""), result))
        else:
            result.page = replace(result.page, content="")  # the blocks hold what is needed: travel light
            parsed.append(result)
    return parsed, failed


def parse_inputs(inputs: list[RawInput], cfg: PipelineConfig) -> tuple[list[ParsedPage], list[Skipped]]:
    """Decode and segment pages, running the extractor on each site's layout sample (as re-runs do:
    first by group, then by site); the ones that cannot be used come back as Skipped with the reason."""
    inputs = sample_inputs(inputs, cfg.extract.sample_size)
    parsed, failed = parse_for_state(inputs, cfg)
    raws = {make_doc_id(r.site_hint, r.identity): r for r in inputs}
    flags, again_ids = take_into_sample(
        [(p.page.doc_id, p.site, p.page.content_hash, p.in_sample) for p in parsed],
        Counter(p.site for p in parsed),
        cfg.extract.sample_size,
    )
    for p in parsed:
        p.in_sample = flags[p.page.doc_id]
    again = [replace(raws[d], in_sample=True) for d in again_ids]
    parsed, failed = parse_again(parsed, failed, again, lambda batch: parse_for_state(batch, cfg))
    return parsed, [skip for _, skip in failed]


def parse_again(
    parsed: list[ParsedPage], failed: list[tuple[Page, Skipped]], again: list[RawInput], parse: ParseFn
) -> tuple[list[ParsedPage], list[tuple[Page, Skipped]]]:
    """The parse of `again`'s inputs (with the extractor) in place of what `parsed` holds for them."""
    if not again:
        return parsed, failed
    redo = {make_doc_id(r.site_hint, r.identity) for r in again}
    parsed_again, failed_again = parse(again)
    return [p for p in parsed if p.page.doc_id not in redo] + parsed_again, failed + failed_again


def group_by_site(parsed: list[ParsedPage]) -> dict[str, list[ParsedPage]]:
    groups: dict[str, list[ParsedPage]] = defaultdict(list)
    for p in parsed:
        groups[p.site].append(p)
    return {site: groups[site] for site in sorted(groups)}


def finish(
    results: list[SiteResult], skipped: list[Skipped], cfg: PipelineConfig, n_inputs: int
) -> RunOutput:
    """Cross-site steps: document near-duplicates, then the run summary."""
    results = sorted(results, key=lambda r: r.site)
    docs = [d for r in results for d in r.documents]
    n_clusters = mark_near_duplicates(docs, cfg.minhash, cfg.dedup)
    out = RunOutput(
        sites=results,
        skipped=sorted(skipped, key=lambda s: (s.site, s.source)),
        n_dup_clusters=n_clusters,
        n_inputs=n_inputs,
    )
    out.summary = summarize(out)
    return out


def summarize(out: RunOutput) -> dict:
    sites = [site_summary(r) for r in out.sites]
    return {
        "inputs": out.n_inputs,
        "pages": sum(s["pages"] for s in sites),
        "skipped": len(out.skipped),
        "skipped_by_reason": dict(sorted(Counter(s.reason for s in out.skipped).items())),
        "duplicate_clusters": out.n_dup_clusters,
        "duplicate_pages": sum(d.duplicate_of is not None for r in out.sites for d in r.documents),
        "sites": sites,
    }


def write_output(out_dir: Path, out: RunOutput, cfg: PipelineConfig) -> Path:
    processed_at = dt.datetime.now(dt.UTC)
    files = output_tables(out.sites, out.skipped, processed_at)
    return publish(
        out_dir, files, cfg, extra={"summary": out.summary, "config_fingerprint": cfg.fingerprint()}
    )


def process_raw(raw_root: Path, cfg: PipelineConfig | None = None) -> RunOutput:
    """Everything up to (not including) writing: the pure core that tests and benchmarks call."""
    cfg = cfg or PipelineConfig()
    inputs, skipped = load_inputs(raw_root, cfg)
    parsed, parse_skipped = parse_inputs(inputs, cfg)
    results = [build_site(site, pages, cfg) for site, pages in group_by_site(parsed).items()]
    return finish(results, skipped + parse_skipped, cfg, n_inputs=len(inputs) + len(skipped))
