"""One site's parsed pages -> clean Documents: boilerplate model, titles, dates, text. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pipeline.clean.boilerplate import SiteModel, mark, text_clusters
from pipeline.clean.dates import choose_dates, dateline_dates, labelled_dates
from pipeline.clean.layout import LayoutModel, PathCounts, apply_layout, path_counts, teaches
from pipeline.clean.page_meta import document_meta
from pipeline.clean.site_columns import ClusterTable, SiteColumns, copy_groups, count_clusters
from pipeline.clean.site_dates import (
    LEARNED,
    SAMPLED,
    UNREADABLE,
    DateEvidence,
    DateModel,
    HtmldateFallback,
    evidence_of,
    htmldate_of_content,
)
from pipeline.clean.titles import TitleAffixes, choose_title, learn_affixes, repeats_title
from pipeline.config import ExtractConfig, PipelineConfig
from pipeline.records import (
    HTMLDATE_ASKED,
    Block,
    BoilerplateCluster,
    DateCandidate,
    Document,
    ParsedPage,
)

_SIDE_REGIONS = ("aside", "nav", "footer")


@dataclass
class SiteResult:
    site: str
    n_pages: int
    documents: list[Document]
    blocks: list[tuple[str, Block]]  # (doc_id, block), in document then position order
    boilerplate: list[BoilerplateCluster]
    model: SiteModel | None = None  # the boilerplate model, kept for re-runs
    layout: LayoutModel | None = None  # the layout model, kept for re-runs


def _own_date_lines(page: ParsedPage, body_min_words: int) -> list[Block]:
    """The page's own date lines: not boilerplate; in the main content, else outside the side
    regions (nav, aside, footer) when the extractor dropped the page header; and labelled
    ("First published ...") or before the body starts. A bare date after that heads a comment or
    a related item."""
    body = next(
        (
            b.position
            for b in page.blocks
            if b.in_main
            and not b.is_dateline
            and not b.is_boilerplate
            and len(b.text.split()) >= body_min_words
        ),
        len(page.blocks),
    )
    lines = [
        b
        for b in page.blocks
        if b.is_dateline and not b.is_boilerplate and (b.position < body or labelled_dates(b.text))
    ]
    return [b for b in lines if b.in_main] or [
        b for b in lines if not any(f"/{r}" in b.tag_path for r in _SIDE_REGIONS)
    ]


def _lists_dates(text_dates: list[DateCandidate], max_page_dates: int) -> bool:
    """A listing or archive page: more distinct date lines than an article has."""
    return len({c.date for c in text_dates}) > max_page_dates


def _page_dates(page: ParsedPage, cfg: ExtractConfig) -> tuple[list[DateCandidate], bool]:
    """page_dates, and whether the page is a listing."""
    text = [c for b in _own_date_lines(page, cfg.body_min_words) for c in dateline_dates(b.text)]
    if _lists_dates(text, cfg.max_page_dates):
        return [c for c in page.date_candidates if c.source in ("json-ld", "meta", "time", "url")], True
    return page.date_candidates + text, False


def page_dates(page: ParsedPage, cfg: ExtractConfig) -> list[DateCandidate]:
    """All date candidates of a page. A listing page keeps only its structured metadata: its visible
    dates belong to the items it lists, and htmldate's guess would come from those same items."""
    return _page_dates(page, cfg)[0]


def _last_resort_needed(cands: list[DateCandidate], listing: bool) -> bool:
    """Whether htmldate's guess (ranked last) decides the page's published date: not on a listing,
    and no other source gives one."""
    return not listing and not any(c.role == "published" and c.source != "htmldate" for c in cands)


def decide_dates(
    pages: list[ParsedPage], dates: DateModel, fallback: HtmldateFallback, cfg: ExtractConfig
) -> list[tuple[list[DateCandidate], str | None]]:
    """Each page's date candidates and what decided them when the page has no published date of its
    own (documents.date_decision): htmldate on the sample, the site's date model on the other pages,
    htmldate again (`fallback`, on those pages only) where the model cannot decide."""
    out: list[tuple[list[DateCandidate], str | None]] = []
    missing: list[int] = []
    for i, p in enumerate(pages):
        cands, listing = _page_dates(p, cfg)
        decision = None
        if p.htmldate is not None and _last_resort_needed(cands, listing):
            asked = p.htmldate == HTMLDATE_ASKED
            if asked and p.in_sample:
                decision = SAMPLED
            elif (learned := dates.decide(p.date_hints)) is not None:
                cands = [*(c for c in cands if c.source != "htmldate"), learned]
                decision = LEARNED
            elif asked:  # a page that left the sample keeps the htmldate answer it was parsed with
                decision = dates.why_not()
            else:
                missing.append(i)
        out.append((cands, decision))
    if missing:
        found = fallback([pages[i] for i in missing])
        for i in missing:
            cands, _ = out[i]
            doc_id = pages[i].page.doc_id
            if doc_id not in found:
                out[i] = (cands, UNREADABLE)
                continue
            guess = found[doc_id]
            out[i] = ([*cands, guess] if guess is not None else cands, dates.why_not())
    return out


def _mark_removed(page: ParsedPage, title_block: Block | None, cfg: ExtractConfig) -> None:
    """Why each block is left out of the text. The page's own date lines are its metadata, except on
    a listing page, where they belong to the items listed; other date lines (a comment's) stay. A
    copy of the title or a breadcrumb ending in it goes with the title. A long block repeated within
    one page (hidden copies, AMP duplicates) is kept once, unless it is a list item: lists side by
    side share items on purpose (a feature in each pricing plan, a spec in each model's list)."""
    seen: set[str] = set()
    own = _own_date_lines(page, cfg.body_min_words)
    metadata_lines = (
        set()
        if _lists_dates([c for b in own for c in dateline_dates(b.text)], cfg.max_page_dates)
        else set(map(id, own))
    )
    title = title_block.text if title_block is not None else None
    for b in page.blocks:
        key = " ".join(b.text.split())
        if b.is_boilerplate:
            b.removed_by = "boilerplate"
        elif not b.in_main:
            b.removed_by = "extractor"
        elif id(b) in metadata_lines:
            b.removed_by = "dateline"
        elif b is title_block or (title is not None and repeats_title(b.text, title)):
            b.removed_by = "title"  # the title, a copy of it or a breadcrumb ending in it
        elif len(key) >= cfg.repeat_min_chars and key in seen and b.kind != "list_item":
            b.removed_by = "repeat"
        else:
            b.removed_by = None
        if b.removed_by is None:
            seen.add(key)


def compose_text(blocks: list[Block]) -> str:
    """Kept blocks as text: paragraphs separated by blank lines, runs of list items or table rows
    of the same list by single newlines."""
    out: list[str] = []
    prev: Block | None = None
    for b in blocks:
        if b.removed_by is not None:
            continue
        if prev is not None:
            tight = (
                b.kind == prev.kind and b.kind in ("list_item", "table_row") and b.tag_path == prev.tag_path
            )
            out.append("\n" if tight else "\n\n")
        out.append(b.text)
        prev = b
    return "".join(out)


def _template_only_main(p: ParsedPage) -> None:
    """A page whose main content, as the extractor or the layout model chose it, is all site template
    (a cookie banner on a product listing) did not get its content found: like a page the extractor
    finds nothing on, it keeps every block the site model does not know as template."""
    if p.page.kind != "html" or any(b.in_main and not b.is_boilerplate for b in p.blocks):
        return
    for b in p.blocks:
        b.in_main = not b.is_boilerplate


def page_document(
    site: str,
    p: ParsedPage,
    affixes: TitleAffixes,
    cfg: PipelineConfig,
    dates: tuple[list[DateCandidate], str | None] | None = None,
) -> Document:
    """One page's clean row, once its blocks carry their boilerplate flags; `dates` as decide_dates
    gives them (without: the page's own candidates)."""
    _template_only_main(p)
    title, title_block = choose_title(p, affixes, cfg.extract.max_title_chars)
    cands, decision = dates if dates is not None else (page_dates(p, cfg.extract), None)
    published, updated = choose_dates(cands)
    _mark_removed(p, title_block, cfg.extract)
    if (
        title_block is not None
        and title_block.removed_by == "title"
        and all(b.removed_by is not None for b in p.blocks)
    ):
        title_block.removed_by = None  # a page whose only content is its heading (a link post) keeps it
    text = compose_text(p.blocks)
    return Document(
        doc_id=p.page.doc_id,
        site=site,
        url=p.page.url,
        source=p.page.source,
        title=title,
        published=published.date if published else None,
        published_source=published.source if published else None,
        updated=updated.date if updated else None,
        updated_source=updated.source if updated else None,
        text=text,
        n_blocks=len(p.blocks),
        n_boilerplate_blocks=sum(b.is_boilerplate for b in p.blocks),
        chars_raw=p.page.chars_raw,
        chars_clean=len(text),
        content_hash=p.page.content_hash,
        meta=document_meta(p, text),
        date_decision=decision,
    )


def page_order(p: ParsedPage) -> tuple[str, str]:
    """Row order of a site's pages in every output table."""
    return (p.page.source, p.page.doc_id)


def site_affixes(titles: list[str | None], cfg: PipelineConfig) -> TitleAffixes:
    return learn_affixes([t for t in titles if t], cfg.boilerplate.min_pages)


class SitePagesView(Protocol):
    """A site's parsed pages as learning reads them: whole-site columns, titles and layout votes
    (state.SitePages reads them from the run state and hands out its chunks for finish_pages)."""

    def __len__(self) -> int: ...
    def columns(self) -> SiteColumns: ...
    def titles(self) -> list[str | None]: ...
    def teaching_counts(self) -> PathCounts: ...
    def date_evidence(self) -> list[DateEvidence]: ...


class PagesInMemory:
    """A SitePagesView over pages already in memory (sorted into page order): one chunk."""

    def __init__(self, pages: list[ParsedPage]):
        self.pages = sorted(pages, key=page_order)

    def __len__(self) -> int:
        return len(self.pages)

    def columns(self) -> SiteColumns:
        return SiteColumns.of_pages(self.pages)

    def titles(self) -> list[str | None]:
        return [t for p in self.pages for t in (p.html_title, p.og_title)]

    def teaching_counts(self) -> PathCounts:
        return path_counts([p for p in self.pages if teaches(p)])

    def date_evidence(self) -> list[DateEvidence]:
        return [
            e
            for p in self.pages
            if (e := evidence_of(p.in_sample, p.htmldate, p.date_candidates, p.date_hints)) is not None
        ]


@dataclass
class SiteLearned:
    """What a site's pages teach before any page is finished: layout, boilerplate and title models,
    and every block's cluster (by block row in page order)."""

    layout: LayoutModel
    model: SiteModel | None  # as objects, for a site kept in memory; None with texts_sink
    stats: ClusterTable | None  # the clusters' stats as columns; None once written out
    clusters: list[BoilerplateCluster]
    template: set[str]  # ids of the boilerplate clusters
    affixes: TitleAffixes
    n_pages: int
    row_cluster: np.ndarray  # int32 per block row: index into cluster_names
    cluster_names: list[str]
    copies: int = 0  # pages counted as copies of another page's document by the template rule
    dates: DateModel = field(default_factory=DateModel)  # where htmldate finds this site's dates


TextsSink = Callable[[dict[str, np.ndarray], dict[str, str]], None]


def learn_site(
    pages: SitePagesView,
    cfg: PipelineConfig,
    known_signatures: dict[str, np.ndarray] | None = None,
    texts_sink: TextsSink | None = None,
) -> SiteLearned:
    """The site's models from its columns, without a Python object per block: the layout votes of the
    sampled pages, the distinct texts clustered, each cluster's pages counted with numpy. With
    `texts_sink` (a large site), every text's signature and cluster key go to it as soon as they are
    known, and the model is kept only as columns (`stats`), not as objects."""
    layout = LayoutModel(min_evidence=cfg.extract.min_evidence_blocks)
    layout.add_counts(pages.teaching_counts())
    cols = pages.columns()
    keys, sigs = text_clusters(
        sorted(cols.clusterable_norms()), cfg.minhash, cfg.boilerplate, known_signatures
    )
    if texts_sink is not None:
        texts_sink(sigs, keys)
        sigs = {}
    n_pages = len(pages)
    counted = count_clusters(cols, keys, cfg.boilerplate)
    n_documents = n_pages
    page_document = copy_groups(cols, counted, n_pages, cfg.boilerplate.copy_min_words)
    if page_document is not None:  # one article under several URLs: its text is not the site's template
        counted = count_clusters(cols, keys, cfg.boilerplate, page_document)
        n_documents = len(np.unique(page_document))
    del cols
    clusters = counted.table.boilerplate(n_documents, cfg.boilerplate)
    model = SiteModel(counted.table.stats(), keys, sigs, n_documents) if texts_sink is None else None
    return SiteLearned(
        layout,
        model,
        counted.table,
        clusters,
        {c.cluster_id for c in clusters},
        site_affixes([t for t in pages.titles() if t], cfg),
        n_pages,
        counted.row_cluster,
        counted.names,
        n_pages - n_documents,
        DateModel.learn(pages.date_evidence(), cfg.extract.min_evidence_blocks),
    )


def finish_pages(
    site: str,
    pages: list[ParsedPage],
    learned: SiteLearned,
    cfg: PipelineConfig,
    first_row: int,
    fallback: HtmldateFallback = htmldate_of_content,
) -> list[Document]:
    """One chunk's clean rows (its blocks start at block row `first_row` of the site): main content
    by the layout model, clusters and boilerplate marked, titles, dates (`fallback`: htmldate on the
    pages the site's date model cannot decide)."""
    apply_layout(pages, learned.layout)
    blocks = [b for p in pages for b in p.blocks]
    names = learned.cluster_names
    for b, c in zip(blocks, learned.row_cluster[first_row : first_row + len(blocks)].tolist(), strict=True):
        b.cluster_id = names[c]
    mark(blocks, learned.template)
    dates = decide_dates(pages, learned.dates, fallback, cfg.extract)
    return [page_document(site, p, learned.affixes, cfg, d) for p, d in zip(pages, dates, strict=True)]


def build_site(
    site: str,
    pages: list[ParsedPage],
    cfg: PipelineConfig,
    known_signatures: dict[str, np.ndarray] | None = None,
) -> SiteResult:
    """A site whose pages are all in memory: one chunk."""
    view = PagesInMemory(pages)
    learned = learn_site(view, cfg, known_signatures)
    documents = finish_pages(site, view.pages, learned, cfg, 0)
    blocks = [(p.page.doc_id, b) for p in view.pages for b in p.blocks]
    return SiteResult(
        site=site,
        n_pages=len(view.pages),
        documents=documents,
        blocks=blocks,
        boilerplate=learned.clusters,
        model=learned.model,
        layout=learned.layout,
    )
