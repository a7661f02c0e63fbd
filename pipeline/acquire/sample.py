"""Which pages go through the main-content extractor (the layout sample), decided before parsing.

Pages are counted per sample group before parsing: the host of a crawled record's URL within its raw
folder, or the raw folder for plain files; after parsing, per site (take_into_sample). A group of fewer
than 4 x `layout_sample` pages is sampled whole (every page is extracted, as without the model). A
larger group samples the pages whose content hash falls under a rate halved at every doubling of the
group, which keeps 2-4 x `layout_sample` of them, and the rest take their main content from the
layout model learned from those (clean/layout.py).

The rule is a function of each page's bytes and of its group's size only, so a re-run and a fresh
run over the same files sample the same pages, whatever order they come in. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from pipeline.acquire.load import content_hash
from pipeline.acquire.warc import host_of
from pipeline.records import RawInput


def sample_group(raw: RawInput) -> str:
    """A crawled record's group is its host within the folder; a plain file's is the folder."""
    if raw.record_date is not None and raw.url:
        return f"{raw.site_hint}\0{host_of(raw.url) or ''}"
    return raw.site_hint


def rate_shift(n_pages: int, layout_sample: int) -> int:
    """Sampling rate 2**-shift for a group of n pages: 0 (everything) below 4 x layout_sample pages."""
    if layout_sample <= 0:
        return 0
    return max(0, (n_pages // (2 * layout_sample)).bit_length() - 1)


def in_sample(content_hash: str, n_pages: int, layout_sample: int) -> bool:
    """Whether a page (by the first 32 bits of its content hash) is in its group's layout sample."""
    shift = rate_shift(n_pages, layout_sample)
    return shift == 0 or int(content_hash[:8], 16) < (1 << 32) >> shift


def sample_inputs(inputs: list[RawInput], layout_sample: int) -> list[RawInput]:
    """The inputs of one run, each marked in or out of its group's sample (in-memory runs)."""
    groups = [sample_group(raw) for raw in inputs]
    counts = Counter(groups)
    return [
        replace(raw, in_sample=in_sample(content_hash(raw.data), counts[g], layout_sample))
        for raw, g in zip(inputs, groups)
    ]


def take_into_sample(
    pages: Iterable[tuple[str, str, str, bool]], site_pages: Counter, layout_sample: int
) -> tuple[dict[str, bool], list[str]]:
    """For parsed pages given as (doc_id, site, content_hash, in_sample): each page's sample flag by
    its site's page count, and the doc ids of pages the site's sample takes in that were parsed
    without the extractor (a site is never larger than its group, so a page sampled by its group
    stays sampled)."""
    flags: dict[str, bool] = {}
    again = []
    for doc_id, site, digest, was in pages:
        flags[doc_id] = in_sample(digest, site_pages[site], layout_sample)
        if flags[doc_id] and not was:
            again.append(doc_id)
    return flags, again
