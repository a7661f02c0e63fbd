"""Raw folders of real pages for the speed benchmark, written the way bench/quality.py writes its raw
input (its `write_raw`: one WARC file per set, the URL as target URI, so sites are hosts).

Two shapes:
  many sites  every multi-page labelled site (a manifest) copied `copies` times under new host names,
              plus the single labelled pages under their own hosts (each host a site of one or a few);
  one site    new articles made from the labelled pages of one multi-page site, each under a URL of
              its own: a site of `pages` pages, none of them a copy of another.
A new article is a labelled page with the words of each run of its article's text shuffled: the
site's template around a text that no other page carries. `added_pages` makes the 1% of new pages of
a re-run the same way.

Each page written is listed as (html file, url), which is what trafilatura alone is given.
"""

from __future__ import annotations

import html as html_lib
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.quality import load_set, read_bytes, write_raw

_TITLE_END = re.compile(rb"</title>", re.I)
_FIRST_P = re.compile(rb"(<p(?:\s[^>]*)?>)", re.I)
_TEXT_RUN = re.compile(rb">([^<]+)<")  # the text between two tags


@dataclass(frozen=True)
class CorpusPage:
    path: Path  # an HTML file (gzipped when it ends in .gz)
    url: str | None
    site: str


def sets_of(data_dir: Path) -> tuple[list[str], list[str]]:
    """(multi-page sites: sets with a manifest, single-page sets)."""
    names = sorted(p.name for p in data_dir.iterdir() if (p / "ground_truth.jsonl").exists())
    multi = [n for n in names if (data_dir / n / "manifest.jsonl").exists()]
    return multi, [n for n in names if n not in multi]


def rehost(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{prefix}.{parts.netloc}"))


def host(url: str | None) -> str:
    return urlsplit(url).netloc if url else ""


def many_sites(data_dir: Path, raw: Path, copies: int, singles: int | None) -> list[CorpusPage]:
    """Every multi-page site `copies` times (hosts c00.<host>, c01.<host>, ...) and the first
    `singles` single pages (None: all) of the single-page sets, under raw/."""
    multi, single = sets_of(data_dir)
    listed: list[CorpusPage] = []
    for name in multi:
        _, pages = load_set(data_dir, name)
        for c in range(copies):
            renamed = [{**p, "url": rehost(p["url"], f"c{c:02d}")} for p in pages if p.get("url")]
            write_raw(data_dir, name, renamed, raw / f"c{c:02d}")
            listed += [
                CorpusPage(data_dir / name / p["page_path"], p["url"], host(p["url"])) for p in renamed
            ]
    left = singles
    for name in single:
        _, pages = load_set(data_dir, name)
        pages = pages if left is None else pages[:left]
        if not pages:
            continue
        write_raw(data_dir, name, pages, raw)
        listed += [
            CorpusPage(data_dir / name / p["page_path"], p.get("url"), host(p.get("url"))) for p in pages
        ]
        left = None if left is None else left - len(pages)
    return listed


def variant(html: bytes, k: int) -> bytes:
    """The page with a small text change: a number in its title and in its first paragraph."""
    html = _TITLE_END.sub(f" {k}</title>".encode(), html, count=1)
    return _FIRST_P.sub(rb"\1" + f"Issue {k}. ".encode(), html, count=1)


def new_article(html: bytes, k: int, body_text: str) -> bytes:
    """The variant with the words of its article shuffled across the article's text runs (seeded by
    k; each run keeps its word count): the same template and length, a text no other page carries. A
    run is the article's when its text is in the page's labelled body (headings, list items, cells
    and code too), and it is more than one plain word (a menu's "Books" can be in the body as well);
    the template's runs are left as they are."""
    body = " ".join(body_text.split())
    html = variant(html, k)

    def article_run(run: bytes) -> bool:
        words = run.split()
        if not words or (len(words) == 1 and words[0].isalpha()):
            return False
        return " ".join(html_lib.unescape(run.decode("utf8", "replace")).split()) in body

    runs = [m for m in _TEXT_RUN.finditer(html) if article_run(m.group(1))]
    words = [w for m in runs for w in m.group(1).split()]
    random.Random(k).shuffle(words)
    out, at, used = [], 0, 0
    for m in runs:
        n = len(m.group(1).split())
        out += [html[at : m.start(1)], b" ".join(words[used : used + n]), b" "]
        at, used = m.end(1), used + n
    return b"".join([*out, html[at:]])


def variants(
    data_dir: Path,
    name: str,
    src: Path,
    raw: Path,
    count: int,
    start: int,
    prefix: str,
    host_prefix: str,
    fresh: bool = False,
) -> list[CorpusPage]:
    """`count` variants of the site's pages (numbered from `start`), written as html files under
    src/<name>/ and as the WARC records of raw/<name>/, each under a URL of its own
    (https://<host_prefix>.<host>/<prefix>k/<path>); `fresh`: as new articles (new_article)."""
    labelled, pages = load_set(data_dir, name)
    pages = [p for p in (labelled if fresh else pages) if p.get("url")]  # articles: their body is known
    base = src / name
    written: list[dict] = []
    listed: list[CorpusPage] = []
    for i in range(count):
        k = start + i
        page = pages[k % len(pages)]
        rel = f"{prefix}{k}/{page['page_path'].removesuffix('.gz')}"
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        html = read_bytes(data_dir / name / page["page_path"])
        target.write_bytes(new_article(html, k, page["body_text"] or "") if fresh else variant(html, k))
        parts = urlsplit(page["url"])
        url = urlunsplit(
            parts._replace(netloc=f"{host_prefix}.{parts.netloc}", path=f"/{prefix}{k}{parts.path}")
        )
        written.append({"page_path": rel, "url": url})
        listed.append(CorpusPage(target, url, host(url)))
    write_raw(src, name, written, raw)
    return listed


def one_site(data_dir: Path, src: Path, raw: Path, pages: int, name: str | None = None) -> list[CorpusPage]:
    """One site of `pages` new articles, made from the first multi-page site's pages (or `name`'s)."""
    multi, _ = sets_of(data_dir)
    return variants(data_dir, name or multi[0], src, raw, pages, 0, "v", "big", fresh=True)


def added_pages(data_dir: Path, corpus: list[CorpusPage], src: Path, raw: Path, share: float) -> Path:
    """New pages for a re-run, `share` of the corpus, into one new folder of raw/ (returned, so that
    it can be removed again): new articles made from a multi-page site's pages, on the hosts of the
    corpus's sites made from it, so those sites gain pages."""
    multi, _ = sets_of(data_dir)
    name = multi[0]
    n = max(1, round(len(corpus) * share))
    folder = raw / "added"
    hosts = sorted({p.site for p in corpus if p.site.split(".", 1)[-1] == _base_host(data_dir, name)})
    if not hosts:
        hosts = sorted({p.site for p in corpus})[:1]
    per = -(-n // len(hosts))
    made = 0
    for h in hosts:
        take = min(per, n - made)
        if take <= 0:
            break
        variants(
            data_dir, name, src / f"added-{h}", folder / h, take, 100_000 + made, "new", h.split(".")[0], True
        )
        made += take
    return folder


def _base_host(data_dir: Path, name: str) -> str:
    _, pages = load_set(data_dir, name)
    return next(host(p["url"]) for p in pages if p.get("url"))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
