"""What a parser process runs on a batch of pages: decode, parse, and hand back Arrow state tables.
A page that cannot be used is kept with its reason (and content hash), so an unchanged bad page is
not parsed again on the next run. Pure (CPU)."""

from __future__ import annotations

from dataclasses import replace

from pipeline.acquire.load import stub_page, to_page
from pipeline.acquire.sites import site_rule
from pipeline.clean.parse import parse_page
from pipeline.config import PipelineConfig
from pipeline.records import Page, ParsedPage, RawInput, Skipped
from pipeline.store.state import ParsedTables

# what a broken page can raise from the parsers (lxml, trafilatura, htmldate); anything else is a bug
PARSE_ERRORS = (RecursionError, MemoryError, ValueError, TypeError, AttributeError, LookupError)


def parse_for_state(
    inputs: list[RawInput], cfg: PipelineConfig
) -> tuple[list[ParsedPage], list[tuple[Page, Skipped]]]:
    """Parse pages; the ones that cannot be used come back as (stub page, Skipped)."""
    parsed: list[ParsedPage] = []
    failed: list[tuple[Page, Skipped]] = []
    for raw in inputs:
        page = to_page(raw)
        if isinstance(page, Skipped):
            failed.append((stub_page(raw), page))
            continue
        try:
            site_of = site_rule(raw.record_date is not None, cfg.load.sites_by_host)
            result = parse_page(page, cfg.extract, raw.in_sample, site_of)
        except PARSE_ERRORS as exc:
            result = Skipped(raw.site_hint, raw.source, "parse_error", f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(result, Skipped):
            failed.append((replace(page, content=""), result))
        else:
            result.page = replace(result.page, content="")  # the blocks hold what is needed: travel light
            parsed.append(result)
    return parsed, failed


def parse_to_tables(inputs: list[RawInput], cfg: PipelineConfig) -> ParsedTables:
    """parse_for_state as state tables, not objects (cheap to send between processes)."""
    return ParsedTables.of(*parse_for_state(inputs, cfg))
