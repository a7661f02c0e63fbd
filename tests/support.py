"""What the tests share: the sites they process, the one way they run the pipeline and how they read
what it wrote. Every end-to-end test runs `pipeline.run_incremental` (the run `sitesift run` makes) and
asserts on the Parquet it wrote. tests/conftest.py wraps these in fixtures named after state
(`naht_raw`, `processed_naht`, ...); test modules import from here, never from each other."""

from __future__ import annotations

import io
import os
import random
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import run_incremental
from pipeline.config import ExtractConfig, PipelineConfig
from tests.crawl import site_server as ss

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "raw" / "naht"  # five real pages of one site
DATASETS = ("documents", "blocks", "boilerplate", "skipped")
ROW_KEYS = {
    "documents": ["doc_id"],
    "blocks": ["doc_id", "position"],
    "boilerplate": ["site", "cluster_id"],
    "skipped": ["site", "source"],
}


# -- raw files ----------------------------------------------------------------------------------------
def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """files: path under root -> text (written as UTF-8) or bytes."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


def write_shuffled(root: Path, files: dict[str, str | bytes], rnd: random.Random) -> Path:
    """The same files created in a random order, each with a random mtime (folders too), so neither
    creation order, directory order nor modification times can be what a run's output follows."""
    names = list(files)
    rnd.shuffle(names)
    for name in names:
        write_files(root, {name: files[name]})
    for path in [*root.rglob("*")]:
        stamp = 1_600_000_000 + rnd.randrange(100_000_000)
        os.utime(path, (stamp, stamp))
    return root


def naht_files() -> dict[str, bytes]:
    return {f"naht/{p.name}": p.read_bytes() for p in sorted(BUNDLED.iterdir())}


def copy_naht(raw: Path) -> Path:
    shutil.copytree(BUNDLED, raw / "naht")
    return raw


# -- running and reading --------------------------------------------------------------------------------
def run_and_read(
    raw: Path, out: Path, cfg: PipelineConfig | None = None, workers: int = 0
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """One run of the production entry, then every dataset it published, read back with pandas."""
    summary = run_incremental(raw, out, cfg, workers=workers)
    return summary, read_tables(out)


# which run wrote a row, and when: they differ between two runs that write the same rows
RUN_COLUMNS = ["processed_at", "run_id"]
# every dataset but `changes`, a history of the runs of one output folder rather than a function of raw/
CONTENT_DATASETS = [name for name in DATASETS if name != "changes"]


def read_tables(out: Path) -> dict[str, pd.DataFrame]:
    """Every published dataset as written (files in name order, rows in file order)."""
    return {name: pd.read_parquet(out / name) for name in DATASETS}


def tables(out: Path) -> dict[str, pd.DataFrame]:
    """Every dataset but `changes` in a canonical row order, without the columns naming the run."""
    found = {}
    for name, key in ROW_KEYS.items():
        df = pd.read_parquet(out / name).drop(columns=RUN_COLUMNS, errors="ignore")
        found[name] = df.sort_values(key).reset_index(drop=True)
    return found


def assert_same_tables(a: Path, b: Path) -> None:
    """Two output folders hold the same rows (in canonical order; the run timestamp aside)."""
    got, expected = tables(a), tables(b)
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def assert_same_files(a: Path, b: Path) -> None:
    """Two output folders hold the same files, each with the same rows in the same order (the run
    timestamp aside): stricter than assert_same_tables, since row order is part of the output."""
    for name in CONTENT_DATASETS:
        files_a = sorted(p.name for p in (a / name).glob("*.parquet"))
        assert files_a == sorted(p.name for p in (b / name).glob("*.parquet")), name
        for file in files_a:
            got, expected = (
                pq.read_table(root / name / file).to_pandas().drop(columns=RUN_COLUMNS, errors="ignore")
                for root in (a, b)
            )
            pd.testing.assert_frame_equal(got, expected, obj=f"{name}/{file}")


def assert_same_as_fresh(raw: Path, out: Path, runs: Path, cfg: PipelineConfig | None = None) -> None:
    """A from-scratch run of raw (into a new folder under runs) gives out's tables, and takes the same
    pages into each site's layout sample."""
    fresh = runs / f"fresh-{len(list(runs.iterdir()))}"
    run_incremental(raw, fresh, cfg)
    assert_same_tables(out, fresh)
    assert sample_flags(out) == sample_flags(fresh)


def sample_flags(out: Path) -> dict[str, bool]:
    """doc_id -> in its site's layout sample, from the run's page state."""
    flags: dict[str, bool] = {}
    for path in sorted((out / "_state" / "parsed").glob("*.pages.parquet")):
        state = pq.read_table(path, columns=["doc_id", "in_sample"]).to_pydict()
        flags.update(zip(state["doc_id"], state["in_sample"]))
    return flags


def parsed_pages(raw: Path, cfg: PipelineConfig | None = None) -> list:
    """Every page below raw parsed as the run's parser processes parse it (ParsedPage objects), for the
    unit tests of what is built from parsed pages."""
    from pipeline.acquire.files import iter_raw_inputs
    from pipeline.run.pages import parse_for_state

    cfg = cfg or PipelineConfig()
    parsed, _ = parse_for_state(list(iter_raw_inputs(raw, cfg.load)), cfg)
    return parsed


# -- an HTML site: shared header, nav and footer, a promo line inside <article>, a site-name suffix in
# <title>, dates in meta tags ----------------------------------------------------------------------------
PROMO = "Subscribe to the Example Gazette newsletter for the best local stories every morning."
STORIES = [
    ("River festival returns after three years", "2024-05-02", None),
    ("Council approves new cycle lanes on High Street", "2024-05-09", "2024-06-01"),
    ("Library extends opening hours for summer", "2024-05-16", None),
    ("Local bakery wins national sourdough award", "2024-05-23", None),
    ("School choir to perform at the cathedral", "2024-05-30", None),
]
DETAILS = [
    (
        "boats, music and food stalls lined the quay",
        "the harbour master",
        "volunteers counted twelve thousand visitors",
    ),
    (
        "councillors voted seven to two in favour",
        "the transport committee",
        "work on the junction begins in August",
    ),
    (
        "the reading room will stay open until nine",
        "the head librarian",
        "a poetry club will meet on Thursdays",
    ),
    (
        "judges praised the crust and the open crumb",
        "the baker's daughter",
        "queues formed before dawn on Monday",
    ),
    (
        "forty pupils rehearsed for six weeks",
        "the music teacher",
        "tickets are free but must be booked online",
    ),
]


def story_page(i: int, title: str, published: str, updated: str | None, with_h1: bool = True) -> str:
    what, who, extra = DETAILS[i]
    paras = [
        f"Story {i}: {title}. On Saturday {what}, and reporters asked residents what they made of it.",
        f"Speaking after the announcement, {who} said the response had been overwhelming and thanked everyone.",
        f"Looking ahead, {extra}; further details for item {i} said to follow.",
    ]
    updated_meta = f'<meta property="article:modified_time" content="{updated}T08:00:00Z">' if updated else ""
    h1 = f"<h1>{title}</h1>" if with_h1 else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title} | Example Gazette</title>
<meta property="og:title" content="{title} | Example Gazette">
<meta property="article:published_time" content="{published}T10:00:00+01:00">{updated_meta}
</head><body>
<header><div class="logo">Example Gazette</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><article>{h1}
<p>{paras[0]}</p><p>{paras[1]}</p>
<p class="promo">{PROMO}</p>
<p>{paras[2]}</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Town hall clock repaired</a></li><li><a href="/b">Fun run raises thousands</a></li></ul></aside>
</main>
<footer><p>© 2024 Example Gazette. All rights reserved.</p><p>Registered office: 1 Market Square, Exampletown</p></footer>
</body></html>"""


def gazette() -> dict[str, str | bytes]:
    """Five story pages of the HTML site, in raw/gazette/ (story 3 has no <h1>)."""
    return {
        f"gazette/story-{i}.html": story_page(i, t, p, u, with_h1=(i != 3))
        for i, (t, p, u) in enumerate(STORIES)
    }


# -- a text site whose template drifts from page to page ------------------------------------------------
INTRO = "Welcome to the Riverside Gardening Club, where members share tips on growing vegetables, flowers and herbs all year round."
BULLET = "Join our monthly seed swap and meet other growers in the community hall"
MEMBERS = "Members' area: log in to read the quarterly newsletter and the plot rota"
SHARED_TWO = (
    "Our tomato trial compared six heirloom varieties grown under identical conditions in raised beds."
)
TITLES = [
    "Broad beans first",
    "Compost basics",
    "Keeping slugs away",
    "Lifting dahlias",
    "Saving rainwater",
    "Autumn garlic",
]
BODIES = [
    "Spring planting starts once the soil has warmed; broad beans can go in first, followed by peas.",
    "Composting turns kitchen scraps into rich humus; keep a balance of green and brown material.",
    "Slugs love lettuce seedlings, so protect them with copper tape or go out with a torch after rain.",
    "Dahlias need lifting before the first frost in colder gardens and storing somewhere dry.",
    "Rainwater butts save money and plants prefer it; fit a diverter to the downpipe of the shed.",
    "Garlic planted in autumn gives bigger bulbs than spring planting, given well drained soil.",
]


def garden_page(
    intro: str, bullet: str, members: str, title: str, body: str, shared: str = "", day: int = 3
) -> str:
    return "\n\n".join(
        x
        for x in [
            "Riverside Gardening Club",
            intro,
            f"  • {bullet}\n  • Plot waiting list opens every spring",
            members,
            title,
            body,
            shared,
            f"First published {day} May 2023",
        ]
        if x
    )


def drift_site() -> dict[str, str | bytes]:
    """Six pages in raw/garden/: the template reworded, requoted, respaced from page to page; one
    paragraph (SHARED_TWO) on two pages only; the last page cp1252 with CRLF line ends."""
    variants = [
        (INTRO, BULLET, MEMBERS),  # exact
        (INTRO, BULLET, MEMBERS.replace("'", "\u2019")),  # curly quotes
        (INTRO.replace(" ", "  "), BULLET.replace(" ", "  "), MEMBERS),  # doubled spaces
        (INTRO.replace("all year round.", "all through the year!"), BULLET, MEMBERS),  # edited sentence end
        (
            INTRO,
            "Join our monthly seed swap to meet fellow growers in the community hall",
            MEMBERS,
        ),  # reworded
        (INTRO, BULLET, MEMBERS.replace("'", "\u2019")),  # cp1252 + CRLF below
    ]
    files: dict[str, str | bytes] = {}
    for i, (intro, bullet, members) in enumerate(variants):
        shared = SHARED_TWO if i in (1, 2) else ""
        text = garden_page(intro, bullet, members, TITLES[i], BODIES[i], shared, day=i + 1)
        if i == 5:
            files[f"garden/p{i}.txt"] = text.replace("\n", "\r\n").encode("cp1252")
        else:
            files[f"garden/p{i}.txt"] = text
    return files


# -- one article syndicated by three news sites -----------------------------------------------------------
ARTICLE = (
    "The county council has approved a plan to plant ten thousand trees along the river over the next "
    "five years. Volunteers will be asked to help with planting days in spring and autumn, and local "
    "schools have already signed up to adopt sections of the riverbank. The scheme is funded by a "
    "national grant and by donations from local businesses, and officials expect the first saplings "
    "to go in before the end of March. Residents can register their interest on the council website."
)
OTHERS = [
    "A new bus route will link the railway station with the hospital from next month, running every twenty minutes.",
    "The annual book fair moves to the town hall this year after record numbers of visitors last summer.",
    "Swimming lessons for adults are back at the leisure centre, with evening classes for complete beginners.",
    "The farmers market has added a second Saturday each month, with more stalls selling local cheese and bread.",
]


def syndicated_sites() -> dict[str, str | bytes]:
    """herald/, gazette/ and courier/ each carry ARTICLE (gazette's copy, published first, reworded a
    little), beside pages of their own."""
    return {
        "herald/a.txt": f"Trees for the river\n\n{ARTICLE}\n\nFirst published 12 March 2024",
        "herald/b.txt": f"New bus route\n\n{OTHERS[0]}\n\nFirst published 2 March 2024",
        "gazette/copy.txt": f"Ten thousand trees\n\n{ARTICLE.replace('five years', 'five  years!')}\n\nFirst published 10 March 2024",
        "gazette/c.txt": f"Book fair\n\n{OTHERS[1]}\n\nFirst published 3 March 2024",
        "gazette/d.txt": f"Adult swimming\n\n{OTHERS[2]}\n\nFirst published 4 March 2024",
        "courier/syndicated.txt": f"Council backs tree plan\n\n{ARTICLE}\n\nFirst published 14 March 2024",
        "courier/e.txt": f"Market news\n\n{OTHERS[3]}\n\nFirst published 5 March 2024",
    }


# -- a large HTML site for the layout sample: the related links differ on every page ----------------------
WORDS = [
    "school",
    "council",
    "budget",
    "teachers",
    "pupils",
    "reading",
    "garden",
    "library",
    "report",
    "river",
    "bridge",
    "museum",
    "winter",
    "market",
    "football",
    "theatre",
    "harbour",
    "station",
    "orchard",
    "meadow",
    "lantern",
    "village",
    "festival",
    "science",
    "music",
]


def article_page(i: int) -> tuple[str, list[str], list[str]]:
    """(html, article paragraphs, per-page related links): the links differ on every page, so only
    the extractor (or the layout learned from it) can tell they are not the article."""
    rnd = random.Random(i)
    title = f"Story {i}: " + " ".join(rnd.choice(WORDS) for _ in range(5))
    paras = [
        f"Paragraph {j} of story {i}. " + " ".join(rnd.choice(WORDS) for _ in range(40)) + "."
        for j in range(4)
    ]
    related = [
        f"Read next: {' '.join(rnd.choice(WORDS) for _ in range(4))} number {i * 10 + k}" for k in range(4)
    ]
    html = f"""<!doctype html><html><head><title>{title} | The Gazette</title></head><body>
<header class="site-header"><nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/about">About the Gazette</a></li></ul></nav></header>
<main class="content"><article class="post"><h1 class="post-title">{title}</h1>
<p class="byline">By the newsroom</p>
{"".join(f"<p>{p}</p>" for p in paras)}
</article>
<aside class="related"><h3>Related stories</h3><ul>{"".join(f'<li><a href="/s/{i}/{k}">{r}</a></li>' for k, r in enumerate(related))}</ul></aside>
</main>
<footer class="site-footer"><p>The Gazette, 1 High Street. All rights reserved.</p></footer>
</body></html>"""
    return html, paras, related


def write_layout_site(raw: Path, pages: range) -> dict[int, tuple[list[str], list[str]]]:
    """Article pages `pages` in raw/gazette/page{i:04d}.html; returns i -> (paragraphs, related links)."""
    truth = {}
    for i in pages:
        html, paras, related = article_page(i)
        write_files(raw, {f"gazette/page{i:04d}.html": html})
        truth[i] = (paras, related)
    return truth


def layout_cfg(sample: int) -> PipelineConfig:
    """The default config with --layout-sample `sample` (0: trafilatura on every page)."""
    return PipelineConfig(extract=ExtractConfig(layout_sample=sample))


# -- a polite HTTP site on 127.0.0.1 for the crawler ---------------------------------------------------------
ETAG = {"ETag": '"v1"', "Content-Type": "text/html; charset=utf-8"}
LASTMOD = {"Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT", "Content-Type": "text/html"}


def serve_polite_site() -> ss.Site:
    """Started: robots.txt (a disallowed /private/, a crawl delay, a sitemap with an external entity),
    a feed, four pages with ETag or Last-Modified. The caller stops it (ss.stop)."""
    site = ss.Site()
    ss.serve(site)
    b = site.base
    site.routes.update(
        {
            "/robots.txt": (
                200,
                {"Content-Type": "text/plain"},
                f"User-agent: *\nDisallow: /private/\nCrawl-delay: 0.3\nSitemap: {b}/sitemap.xml\n".encode(),
            ),
            "/sitemap.xml": (
                200,
                {"Content-Type": "application/xml"},
                (
                    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<url><loc>{b}/a</loc></url><url><loc>{b}/private/secret</loc></url><url><loc>&e;</loc></url>"
                    "</urlset>"
                ).encode(),
            ),
            "/feed.xml": (
                200,
                {"Content-Type": "application/rss+xml"},
                f"<rss><channel><item><link>{b}/c</link></item></channel></rss>".encode(),
            ),
            "/": (
                200,
                ETAG,
                ss.page("Home", "Welcome to the local test site home page.", ["/a", "/b", "/private/x"]),
            ),
            "/a": (
                200,
                ETAG,
                ss.page("Page A", "Apples grow on trees in the orchard by the river.", ["/b", "/a#top"]),
            ),
            "/b": (200, LASTMOD, ss.page("Page B", "Bees make honey from the flowers in the meadow.")),
            "/c": (200, LASTMOD, ss.page("Page C", "Carrots are orange and grow under the ground.")),
            "/private/x": (200, ETAG, ss.page("Secret", "must never be fetched")),
            "/private/secret": (200, ETAG, ss.page("Secret", "must never be fetched")),
        }
    )
    return site


# -- plain-text sites of many pages (crash and publish tests) ------------------------------------
def corpus(n_sites: int, n_pages: int, edition: int = 0) -> dict[str, str]:
    """Text pages; another `edition` changes every page's article (same file names)."""
    files = {}
    for s in range(n_sites):
        for p in range(n_pages):
            files[f"site{s}/page{p:04d}.txt"] = (
                f"Site {s} menu\n\nAbout us\n\nContact\n\nTitle {edition} of page {p} on site {s}\n\n"
                f"Paragraph {p}: "
                + " ".join(f"word{(p * 7 + k * s + edition * 13) % 997}" for k in range(120))
                + f"\n\nFirst published {1 + p % 28} March 2024"
            )
    return files


# `python -c RUN_SCRIPT RAW OUT`: the library's run in a child process that a test can kill
RUN_SCRIPT = (
    "import sys; from pathlib import Path; from pipeline import run_incremental; "
    "print(run_incremental(Path(sys.argv[1]), Path(sys.argv[2]))['pages'])"
)


def parse_states(state) -> list[str]:
    """The state names of a flow run's parse-pages task runs ("Cached" when the result came from the cache)."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    return [r.state.name for r in runs if r.name.startswith("parse-pages")]


def warc_file(records: list[tuple[str, bytes]]) -> bytes:
    """A gzipped WARC file of one HTML response record per (URL, body)."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, body in records:
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return buf.getvalue()
