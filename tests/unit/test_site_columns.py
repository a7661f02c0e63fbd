"""Cluster counting on integer columns (what the site build and the append path use) gives exactly
what counting block by block gives on the same real pages: the same cluster for every block, the same
page counts, variants, normalised texts, date-line flags and tag paths, with and without regions; and
the stats state rows and template clusters made from the columns equal those made from the objects."""

from __future__ import annotations

import copy
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pytest

from pipeline.clean import site_columns
from pipeline.clean.boilerplate import (
    ClusterStats,
    SiteModel,
    boilerplate_clusters,
    cluster_id,
    text_clusters,
)
from pipeline.clean.main_content import norm_tokens
from pipeline.clean.site import page_order
from pipeline.clean.site_columns import SiteColumns, count_clusters
from pipeline.config import BoilerplateConfig, PipelineConfig
from pipeline.records import Block, ParsedPage
from pipeline.schemas import STATS_STATE
from pipeline.store import state
from tests.support import gazette, parsed_pages, write_files


# The reference: cluster every block one object at a time, as written out by hand. The column counting
# that the site build and the append path use must give exactly this.
def normalised_entries(pages: list[ParsedPage]) -> list[tuple[str, Block, str]]:
    """(doc_id, block, normalised text) for every block; template texts are normalised once."""
    normalised: dict[str, str] = {}
    entries = []
    for page in pages:
        for b in page.blocks:
            n = normalised.get(b.text)
            if n is None:
                n = normalised[b.text] = norm_tokens(b.text)
            entries.append((page.page.doc_id, b, n))
    return entries


def assign_clusters(
    entries: list[tuple[str, Block, str]], keys: dict[str, str], cfg: BoilerplateConfig
) -> dict[str, ClusterStats]:
    """Set cluster_id on every block and count each cluster's distinct pages, variants and texts."""
    ids: dict[tuple[str, str, str], str] = {}
    docs: dict[str, set[str]] = defaultdict(set)
    stats: dict[str, ClusterStats] = {}
    for doc_id, b, n in entries:
        region = b.tag_path if cfg.by_region else ""
        key = ("d", region, n) if b.is_dateline or not n else ("c", region, keys[n])
        cid = ids.get(key)
        if cid is None:
            cid = ids[key] = cluster_id(*key)
        b.cluster_id = cid
        st = stats.get(cid)
        if st is None:
            st = stats[cid] = ClusterStats(0, b.is_dateline, b.tag_path, Counter(), set(), key[2])
        st.variants[b.text] += 1
        st.norms.add(n)
        docs[cid].add(doc_id)
    for cid, st in stats.items():
        st.n_pages = len(docs[cid])
    return stats


@pytest.fixture()
def pages(naht_raw):
    """The bundled pages and the HTML site's pages in one folder: one site, both templates."""
    write_files(naht_raw, {f"naht/{k.split('/', 1)[1]}": v for k, v in gazette().items()})
    return sorted(parsed_pages(naht_raw), key=page_order)


@pytest.mark.parametrize("by_region", [True, False])
@pytest.mark.parametrize(
    "row_step", [site_columns.ROW_STEP, 7]
)  # one step; many, each ending at a page's end
def test_column_counts_equal_object_counts(pages, by_region, row_step, monkeypatch):
    monkeypatch.setattr(site_columns, "ROW_STEP", row_step)
    cfg = PipelineConfig(boilerplate=BoilerplateConfig(by_region=by_region))
    cols = SiteColumns.of_pages(pages)
    keys, _ = text_clusters(sorted(cols.clusterable_norms()), cfg.minhash, cfg.boilerplate)
    objects = copy.deepcopy(pages)
    expected = assign_clusters(normalised_entries(objects), keys, cfg.boilerplate)

    counted = count_clusters(cols, keys, cfg.boilerplate)

    stats = counted.table.stats()
    assert stats == expected and list(stats) == sorted(expected)
    assert [counted.names[c] for c in counted.row_cluster.tolist()] == [
        b.cluster_id for p in objects for b in p.blocks
    ]
    assert (
        len(pages) == 10 and max(st.n_pages for st in expected.values()) >= 5
    )  # each template's menu on its 5 pages
    assert any(st.dateline for st in expected.values())
    # what is written and what is template, from the columns, equal what the objects give
    model = SiteModel(expected, keys, {}, len(pages))
    parts = list(counted.table.state_tables(STATS_STATE, 4))
    assert len(parts) == -(-len(expected) // 4) and pa.concat_tables(parts).equals(state.stats_table(model))
    template = counted.table.boilerplate(len(pages), cfg.boilerplate)
    assert template == boilerplate_clusters(expected, len(pages), cfg.boilerplate) and len(template) >= 5


def test_row_steps_cover_every_row_once_and_never_split_a_page(monkeypatch):
    monkeypatch.setattr(site_columns, "ROW_STEP", 4)
    doc = np.repeat(np.arange(6), [3, 9, 1, 1, 5, 2]).astype(np.int32)
    steps = site_columns._row_steps(doc)
    assert steps[0][0] == 0 and steps[-1][1] == len(doc)
    assert all(a[1] == b[0] for a, b in zip(steps, steps[1:]))
    assert all(hi == len(doc) or doc[hi - 1] != doc[hi] for _, hi in steps)


def test_columns_of_pages_follow_page_and_block_order(pages):
    cols = SiteColumns.of_pages(pages)
    assert len(cols) == sum(len(p.blocks) for p in pages)
    texts = cols.texts.to_pylist()
    assert [texts[t] for t in cols.text.tolist()] == [b.text for p in pages for b in p.blocks]
    assert np.array_equal(cols.doc, np.repeat(np.arange(len(pages)), [len(p.blocks) for p in pages]))
