"""Appending new pages to a site's last model, when that provably changes nothing for its old pages:
no cluster key moves, no cluster with old members crosses the boilerplate threshold, and the learned
title affixes stay the same. The old pages' rows are then exactly what a full re-learn would give, so
only the new pages are processed and the site's files are last run's rows plus theirs. Otherwise the
caller re-learns the site from all its pages. Touches disk (the site's files in the staged version)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.clean.boilerplate import (
    ClusterStats,
    SiteModel,
    boilerplate_clusters,
    cluster_id,
    is_template,
    mark,
    template_mask,
    text_clusters,
)
from pipeline.clean.layout import LayoutModel, apply_layout, teaches
from pipeline.clean.main_content import norm_tokens
from pipeline.clean.neardup import DocKey, doc_signatures
from pipeline.clean.site import SiteResult, decide_dates, page_document, page_order, site_affixes
from pipeline.clean.site_columns import SiteColumns, count_clusters
from pipeline.clean.site_dates import DateModel
from pipeline.config import BoilerplateConfig
from pipeline.records import BoilerplateCluster, ParsedPage
from pipeline.run.date_fallback import htmldate_again
from pipeline.run.site_job import APPENDED, SiteBuilt, SiteJob
from pipeline.run.site_state import read_doc_index, text_hash, write_doc_index, write_model, write_texts
from pipeline.schemas import BLOCKS_SCHEMA, DOCUMENTS_SCHEMA, LAYOUT_STATE, STATS_STATE
from pipeline.store import state
from pipeline.store.state_layout import folder_blocks, folder_pages
from pipeline.store.tables import blocks_table, boilerplate_table, documents_table, tables_summary

log = logging.getLogger(__name__)

MAX_FINISHED_AGAIN = 0.25  # share of the old pages that may be finished again instead of a re-learn


def _old_titles(job: SiteJob, new_ids: set[str]) -> list[str | None]:
    titles: list[str | None] = []
    for folder in job.folders:
        t = pq.read_table(
            job.version.staged(folder_pages(folder)),
            columns=["doc_id", "site", "skip_reason", "html_title", "og_title"],
        ).to_pydict()
        for doc_id, site, reason, html_title, og_title in zip(*t.values()):
            if site == job.site and reason is None and doc_id not in new_ids:
                titles += [html_title, og_title]
    return titles


def _date_model(job: SiteJob, new_ids: set[str]) -> DateModel | None:
    """The site's date model over all its pages (as a re-learn would have it), or None when it is
    not the one the old pages alone give."""
    cols = ["doc_id", "site", "skip_reason", "in_sample", "htmldate", "date_candidates", "date_hints"]
    parts = [pq.read_table(job.version.staged(folder_pages(f)), columns=cols) for f in job.folders]
    t = pa.concat_tables(parts)
    t = t.filter(pc.and_(pc.equal(t["site"], job.site), pc.is_null(t["skip_reason"])))
    old = t.filter(pc.invert(pc.is_in(t["doc_id"], pa.array(sorted(new_ids), pa.string()))))
    min_evidence = job.cfg.extract.min_evidence_blocks
    now = DateModel.learn(state.date_evidence_of(t), min_evidence)
    return now if now.keys == DateModel.learn(state.date_evidence_of(old), min_evidence).keys else None


def append_pages(job: SiteJob) -> SiteBuilt | None:
    """A SiteBuilt for the site with job.new_pages appended, or None when a full re-learn is needed."""
    files = job.files
    cfg, v, bp = job.cfg, job.version, job.cfg.boilerplate
    assert job.prev_summary is not None  # an appended site was built by the last run

    def old(rel: str) -> Path:
        path = v.previous_path(rel)
        assert path is not None  # site_mode checked that the last run wrote every file of the site
        return path

    known_sigs, old_keys = state.read_texts(old(files.texts))
    stats_t = pq.read_table(old(files.stats), schema=STATS_STATE)
    n_old = job.prev_summary.pages
    if job.prev_summary.copies:
        log.info("%s: re-learning, the site's template was counted over documents with copies", job.site)
        return None  # its clusters count documents, not pages: the page arithmetic below does not hold
    pages = sorted(job.new_pages, key=page_order)
    n_all = n_old + len(pages)

    layout = LayoutModel.from_table(
        pq.read_table(old(files.layout), schema=LAYOUT_STATE), cfg.extract.min_evidence_blocks
    )
    decided = layout.decisions()
    for p in pages:
        if teaches(p):
            layout.add(p)
    if not layout.same_for_applied(decided):
        log.info("%s: re-learning, new sampled pages change the layout model", job.site)
        return None  # old pages outside the sample would take other main-content decisions
    apply_layout(pages, layout)

    new_cols = SiteColumns.of_pages(pages)
    keys, sigs = text_clusters(
        sorted(set(old_keys) | new_cols.clusterable_norms()), cfg.minhash, bp, known_sigs
    )
    old_blocks = pq.read_table(old(files.blocks)).cast(BLOCKS_SCHEMA)
    cols = stats_t.select(["cluster_id", "dateline", "tag_path", "key"]).to_pydict()
    renames = _renamed_clusters(cols, keys)
    counted = count_clusters(new_cols, keys, bp)
    new_stats = counted.table.stats()
    new_blocks = [b for p in pages for b in p.blocks]
    for b, c in zip(new_blocks, counted.row_cluster.tolist(), strict=True):
        b.cluster_id = counted.names[c]
    del new_cols, counted

    # clusters no new block touches keep their stats; only the page count of the site moved
    touched = set(new_stats) | set(renames) | set(renames.values())
    n_pages = stats_t["n_pages"].to_numpy()
    dateline = stats_t["dateline"].to_numpy(zero_copy_only=False)
    was = template_mask(n_pages, dateline, n_old, bp)
    now = template_mask(n_pages, dateline, n_all, bp)
    untouched = ~pc.is_in(stats_t["cluster_id"], pa.array(sorted(touched), pa.string())).to_numpy(
        zero_copy_only=False
    )
    flipped = set(pc.filter(stats_t["cluster_id"], pa.array(untouched & (was != now))).to_pylist())
    old_stats = state.read_stats_rows(
        stats_t.filter(pc.is_in(stats_t["cluster_id"], pa.array(sorted(touched), pa.string())))
    )
    groups: dict[str, list[str]] = {}
    for cid in sorted(old_stats):
        groups.setdefault(renames.get(cid, cid), []).append(cid)
    merged = {}
    for new_id, olds in groups.items():
        base = old_stats[olds[0]]
        if len(olds) > 1:  # new blocks bridge old clusters: count their pages together, exactly
            rows = old_blocks.filter(pc.is_in(old_blocks["cluster_id"], pa.array(olds, pa.string())))
            base = ClusterStats(
                len(pc.unique(rows["doc_id"])),
                False,
                base.tag_path,
                sum((old_stats[c].variants for c in olds), Counter()),
                set().union(*(old_stats[c].norms for c in olds)),
                base.key,
            )
        combined = base.merged(new_stats.get(new_id))
        if new_id != olds[0] or len(olds) > 1:
            combined.key = keys[base.key]
        flipped.update(
            c for c in olds if is_template(old_stats[c], n_old, bp) != is_template(combined, n_all, bp)
        )
        merged[new_id] = combined
    for cid, st in new_stats.items():
        merged.setdefault(cid, st)
    shared_groups = [(n, c) for n, olds in groups.items() for c in olds if not old_stats[c].dateline]
    before = np.array([old_stats[c].n_pages for _, c in shared_groups], np.int64)
    after = np.array([merged[n].n_pages for n, _ in shared_groups], np.int64)
    if _crosses_half(n_pages[untouched & ~dateline], n_pages[untouched & ~dateline], n_old, n_all) or (
        _crosses_half(before, after, n_old, n_all)
    ):
        log.info("%s: re-learning, shared text crosses half the site's pages", job.site)
        return None  # pages holding it may now be, or no longer be, copies of one document
    if _may_be_copies(pages, merged, n_all, bp):
        log.info("%s: re-learning, a new page shares an article's text with other pages", job.site)
        return None  # the template rule counts such pages once: only a whole count knows how
    untouched_template = [c for c, u, t in zip(cols["cluster_id"], untouched, now) if u and t]

    old_titles = _old_titles(job, {p.page.doc_id for p in pages})
    affixes = site_affixes(old_titles + [t for p in pages for t in (p.html_title, p.og_title)], cfg)
    if affixes != site_affixes(old_titles, cfg):
        log.info("%s: re-learning, the site's title affixes change", job.site)
        return None  # old titles would be cut differently

    prev_bp = pq.read_table(old(files.boilerplate)).to_pylist()
    kept = set(untouched_template)
    clusters = [
        BoilerplateCluster(
            r["cluster_id"], r["text"], r["tag_path"], r["n_pages"], r["n_pages"] / n_all, r["n_variants"]
        )
        for r in prev_bp
        if r["cluster_id"] in kept
    ]
    clusters += boilerplate_clusters(merged, n_all, bp)
    template = {c.cluster_id for c in clusters}
    mark(new_blocks, template)
    dates = _date_model(job, {p.page.doc_id for p in pages})
    if dates is None:
        log.info("%s: re-learning, the new pages change the site's date model", job.site)
        return None  # old pages' dates were decided by the model as it was
    again_ids = set(
        pc.unique(old_blocks.filter(_in(old_blocks["cluster_id"], flipped))["doc_id"]).to_pylist()
    )
    if len(again_ids) > MAX_FINISHED_AGAIN * n_old:
        log.info("%s: re-learning, %d old pages hold blocks that change sides", job.site, len(again_ids))
        return None  # finishing that many pages again costs about what learning the site does
    again = _old_pages_again(job, again_ids, old_blocks, renames, layout, template)
    if again:
        log.info("%s: %d old pages finished again, their blocks change sides", job.site, len(again))
    fallback = htmldate_again(job.raw, cfg.load)
    finished = sorted(pages + again, key=page_order)
    page_dates = decide_dates(finished, dates, fallback, cfg.extract)
    docs = [page_document(job.site, p, affixes, cfg, d) for p, d in zip(finished, page_dates, strict=True)]
    if again_ids:
        old_blocks = old_blocks.filter(pc.invert(_in(old_blocks["doc_id"], again_ids)))
    result = SiteResult(
        site=job.site,
        n_pages=n_all,
        documents=docs,
        blocks=[(p.page.doc_id, b) for p in finished for b in p.blocks],
        boilerplate=clusters,
        model=SiteModel(merged, keys, sigs, n_all),
        layout=layout,
    )
    stats_out = pa.concat_tables(
        [stats_t.filter(pa.array(untouched)), state.stats_table(SiteModel(merged, keys, sigs, n_all))]
    )

    old_docs = pq.read_table(old(files.documents)).cast(DOCUMENTS_SCHEMA)
    if again_ids:
        old_docs = old_docs.filter(pc.invert(_in(old_docs["doc_id"], again_ids)))
    docs_t = pa.concat_tables([old_docs, documents_table(result.documents, job.now, job.run_id)])
    order = pc.sort_indices(docs_t, sort_keys=[("source", "ascending"), ("doc_id", "ascending")])
    in_order = (
        not again_ids and pc.all(pc.equal(order, pa.array(np.arange(len(order), dtype=np.uint64)))).as_py()
    )
    if not in_order:  # new pages sort among the old ones (else they simply follow them)
        docs_t = docs_t.take(order)
    if renames:  # a new, smaller text became the key of old clusters (or joined two): new id
        old_ids = pa.array(sorted(renames), pa.string())
        idx = pc.index_in(old_blocks["cluster_id"], value_set=old_ids)
        renamed = pc.take(pa.array([renames[c] for c in old_ids.to_pylist()], pa.string()), idx)
        col = pc.if_else(pc.is_null(idx), old_blocks["cluster_id"], renamed)
        old_blocks = old_blocks.set_column(old_blocks.schema.get_field_index("cluster_id"), "cluster_id", col)
    blocks_t = pa.concat_tables([old_blocks, blocks_table(job.site, result.blocks)])
    if not in_order:
        rank = pc.index_in(blocks_t["doc_id"], value_set=docs_t["doc_id"])
        blocks_t = blocks_t.append_column("_rank", rank).sort_by(
            [("_rank", "ascending"), ("position", "ascending")]
        )
        blocks_t = blocks_t.drop_columns(["_rank"])
    v.write("documents", Path(files.documents).name, docs_t)
    v.write("blocks", Path(files.blocks).name, blocks_t)
    v.write("boilerplate", Path(files.boilerplate).name, boilerplate_table(job.site, result.boilerplate))
    write_texts(job, files, sigs, keys)
    write_model(job, result, files, stats_out.sort_by([("cluster_id", "ascending")]))

    sig_of = read_doc_index(v.previous_path(files.doc_index))
    for doc_id in again_ids:
        sig_of.pop(doc_id, None)  # signed again below when it still has text
    fresh = [d for d in docs if d.text.strip()]
    for d, sig in zip(fresh, doc_signatures([d.text for d in fresh], cfg.minhash, cfg.dedup)):
        sig_of[d.doc_id] = (sig, text_hash(d.text))
    write_doc_index(job, files, sig_of)
    keyed = docs_t.select(["doc_id", "published", "url", "source"]).to_pylist()
    keyed = [k for k in keyed if k["doc_id"] in sig_of]
    return SiteBuilt(
        job.site,
        tables_summary(job.site, docs_t, blocks_t, len(clusters)),
        [DocKey(k["doc_id"], k["published"], k["url"], k["source"]) for k in keyed],
        [sig_of[k["doc_id"]][0] for k in keyed],
        mode=APPENDED,
    )


def _in(column: pa.ChunkedArray | pa.Array, values: set[str]) -> pa.ChunkedArray:
    return pc.is_in(column, pa.array(sorted(values), pa.string()))


def _old_pages_again(
    job: SiteJob,
    doc_ids: set[str],
    old_blocks: pa.Table,
    renames: dict[str, str],
    layout: LayoutModel,
    template: set[str],
) -> list[ParsedPage]:
    """The old pages that hold a block changing sides, read back from the run state with each block's
    cluster as last run's blocks have it (renamed where the cluster was) and the new boilerplate
    marks: finished again, they are what a re-learn gives them, since nothing else they depend on
    moved."""
    pages = state.pages_of(
        [(job.version.staged(folder_pages(f)), job.version.staged(folder_blocks(f))) for f in job.folders],
        job.site,
        doc_ids,
    )
    rows = old_blocks.filter(_in(old_blocks["doc_id"], doc_ids)).select(["doc_id", "position", "cluster_id"])
    cluster_of = {
        (d, pos): renames.get(c, c) if c is not None else None
        for d, pos, c in zip(*rows.to_pydict().values())
    }
    apply_layout(pages, layout)
    for p in pages:
        for b in p.blocks:
            b.cluster_id = cluster_of[(p.page.doc_id, b.position)]
    mark([b for p in pages for b in p.blocks], template)
    return pages


def _crosses_half(before: np.ndarray, after: np.ndarray, n_old: int, n_all: int) -> bool:
    """Whether text that pages share (clusters on `before` pages of n_old, `after` pages of n_all)
    moves across half the site's pages, where copy_groups tells shared text from the template."""
    return bool(((before >= 2) & ((before * 2 <= n_old) != (after * 2 <= n_all))).any())


def _may_be_copies(
    pages: list[ParsedPage], stats: dict[str, ClusterStats], n_pages: int, bp: BoilerplateConfig
) -> bool:
    """Whether a new page is what copy_groups takes for a copy: as much text that few pages share,
    and next to nothing of its own. Then only a whole re-count can tell. An old page can join a
    group of copies only with such a new page (its own text becomes shared with that page) or
    through shared text crossing half the site's pages (_crosses_half)."""
    for p in pages:
        shared = own = 0
        for b in p.blocks:
            st = stats.get(b.cluster_id or "")
            if b.is_dateline or st is None:
                continue
            words = len(norm_tokens(b.text).split())  # as copy_groups counts them (text_words)
            if st.n_pages == 1:
                own += words
            elif st.n_pages * 2 <= n_pages:
                shared += words
        if shared >= bp.copy_min_words and own <= max(5, 0.05 * shared):
            return True
    return False


def _renamed_clusters(cols: dict[str, list], keys: dict[str, str]) -> dict[str, str]:
    """old cluster id -> new id for old clusters whose key text is no longer the smallest text of
    their cluster (a new text is smaller, or new texts joined two old clusters)."""
    renames: dict[str, str] = {}
    for cid, dateline, tag_path, key in zip(
        cols["cluster_id"], cols["dateline"], cols["tag_path"], cols["key"]
    ):
        if dateline or not key or keys.get(key, key) == key:
            continue  # date lines and empty texts are clustered by exact text; unchanged keys stay
        renames[cid] = cluster_id("c", tag_path, keys[key])
    return renames
