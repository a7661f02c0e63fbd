"""Running the crawler on a test site in-process (no Prefect), and reading back what it stored."""

from __future__ import annotations

from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipeline.acquire.crawler import HostCrawler, host_folder
from pipeline.acquire.urls import normalise
from pipeline.acquire.warc_writer import WarcSink
from pipeline.config import CrawlConfig
from pipeline.store.crawl_log import CrawlLogWriter, known_pages, read_log
from tests.crawl import site_server as ss


def run_crawl(tmp: Path, site: ss.Site, cfg: CrawlConfig, seeds=("/",), feeds=(), crawl_id="c1", stop=None):
    host = site.base.split("//")[1]
    out = tmp / "processed"
    sink = WarcSink(tmp / "raw" / host_folder(host), crawl_id, cfg.warc_records_per_file)
    log = CrawlLogWriter(out / "crawl_log", crawl_id, host_folder(host))
    extra = {"stop": stop} if stop is not None else {}
    crawler = HostCrawler(host, cfg, crawl_id, sink, log, known_pages(out / "crawl_log", host), **extra)
    stats = crawler.run(
        [normalise(site.base + s) for s in seeds], [], [normalise(site.base + f) for f in feeds]
    )
    return stats, read_log(out / "crawl_log").to_pandas()


def warc_responses(raw: Path) -> list[str]:
    urls = []
    for f in sorted(raw.rglob("*.warc.gz")):
        with open(f, "rb") as fh:
            urls += [
                r.rec_headers.get_header("WARC-Target-URI")
                for r in ArchiveIterator(fh)
                if r.rec_type == "response"
            ]
    return urls
