"""Every tunable default in one place, as frozen dataclasses; the fingerprint goes into Parquet metadata."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

PIPELINE_VERSION = "0.6.2"  # bump when parsing or state changes: re-runs then parse everything again


@dataclass(frozen=True)
class LoadConfig:
    max_page_bytes: int = 10 * 1024 * 1024  # larger inputs are skipped as "too_large" (after gunzip)
    html_suffixes: tuple[str, ...] = (".html", ".htm", ".xhtml")
    text_suffixes: tuple[str, ...] = (".txt",)
    warc_suffixes: tuple[str, ...] = (".warc", ".warc.gz")
    sites_by_host: bool = False  # plain files: the host of their canonical/og:url is the site, not the folder
    # re-runs skip reading a file whose size and mtime are unchanged (as rsync does)
    trust_file_stat: bool = True


@dataclass(frozen=True)
class MinHashConfig:
    num_perm: int = 128  # signature length; 128 gives ~0.03 error around Jaccard 0.8
    seed: int = 1  # datasketch's default seed, so values match datasketch.MinHash
    scheme: str = "affine32"  # datasketch 2 permutation scheme
    # page word shingles: polynomial of the words' xxh32 (minhash.word_shingle_hash)
    hashfunc: str = "xxh32-word-poly"
    block_hashfunc: str = "fnv1a32-codepoints"  # block char shingles: FNV-1a over code points, in bulk


@dataclass(frozen=True)
class BoilerplateConfig:
    min_pages: int = 3  # a block cluster seen on at least this many pages of a site is boilerplate
    min_share: float = 0.0  # ...and on at least this share of the site's pages (0 = off)
    shingle_chars: int = 4  # character shingles: robust to drift and still defined for short lines
    threshold: float = 0.5  # estimated Jaccard to call two blocks near-duplicates (reworded bullet ~0.66)
    bands: int = 25  # LSH bands x rows <= num_perm; (25, 5) is datasketch's optimum for 0.5
    rows: int = 5
    by_region: bool = True  # count pages per (cluster, tag path): a post title in a listing is not template
    # pages that share at least this many words on at most half the site's pages, and have next to
    # nothing of their own, are one document under several URLs: counted once for the template rule
    copy_min_words: int = 40


@dataclass(frozen=True)
class DedupConfig:
    shingle_words: int = 3  # word shingles for whole-document near-duplicates
    threshold: float = 0.8  # estimated Jaccard for two pages to be near-duplicates
    bands: int = 9  # (9, 13): datasketch's optimum for 0.8 at 128 permutations
    rows: int = 13


@dataclass(frozen=True)
class ExtractConfig:
    use_trafilatura: bool = True  # run trafilatura's main-content extraction on HTML pages
    # ...with its metadata pass (bylines, tag links: author on ~20% more pages; ~+50% of its time)
    extractor_metadata: bool = True
    max_title_chars: int = 300  # a block longer than this is never a title
    # seconds one page may take to parse (in a worker process) before it is skipped
    page_timeout: float = 60.0
    layout_sample: int = 8  # groups over 4x this many pages run trafilatura on a 2-4x sample only; 0 = on all
    min_evidence_blocks: int = 3  # sampled blocks under a layout path before it decides anything
    max_page_dates: int = 2  # "First published" twice is an article; more distinct date lines make a listing
    repeat_min_chars: int = 40  # a block this long repeated within one page (hidden copies) is kept once
    # the first main-content block this long starts a page's body: a bare date after it is not the page's
    body_min_words: int = 40

    @property
    def sample_size(self) -> int:
        """layout_sample, or 0 when trafilatura is off: there is no extractor to learn a layout from."""
        return self.layout_sample if self.use_trafilatura else 0


@dataclass(frozen=True)
class CrawlConfig:
    # say who you are and how to reach you
    user_agent: str = "sitesift/0.1 (+https://pypi.org/project/sitesift/)"
    min_delay: float = 1.0  # seconds between two requests to one host (robots Crawl-delay if larger)
    max_pages: int = 500  # pages stored or checked per host per crawl
    max_depth: int = 5  # link hops from a seed, sitemap or feed URL
    include: tuple[str, ...] = ()  # regexes; when given, a URL must match one of them
    exclude: tuple[str, ...] = ()  # regexes; a URL matching any of them is not fetched
    obey_robots: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    request_deadline: float = 60.0  # seconds one URL may take in all: redirects, retries, a slow-drip body
    max_retries: int = 3  # on timeouts, connection errors, 5xx and 429
    backoff_base: float = 0.5  # first retry waits ~0.5 s, then 1, 2 ... (x0.5-1.5 jitter)
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After gives up on the URL instead of stalling the crawl
    max_body_bytes: int = (
        10 * 1024 * 1024
    )  # decoded body limit, enforced while streaming (gzip bombs stop here)
    max_redirects: int = 5
    allow_hosts: tuple[str, ...] = ()  # "host" or "host:port" allowed although private/loopback
    warc_records_per_file: int = 1000  # response records per WARC file before a new file starts
    stored_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")


@dataclass(frozen=True)
class ResourceLimits:
    """How much a run holds and hands out at once. These never change the output (tests run with tiny
    values to prove it), so they are outside every fingerprint and passed down, not read from modules."""

    parse_chunk: int = 1_000  # pages parsed before their results are packed into state tables
    batch_pages: int = 8  # pages per worker task: one task per page cost more than parsing a page
    max_tasks_per_worker: int = 250  # a fresh worker now and then keeps parser memory from creeping up
    site_chunk_pages: int = 1_000  # pages of a site finished at once, as objects (~0.1 GB)
    held_block_bytes: int = 64 << 20  # a folder's parsed block rows held in memory up to this, on disk beyond
    append_max_blocks: int = 500_000  # new blocks the append-only path holds in memory; beyond, re-learn
    state_slice: int = 1 << 16  # rows per part when a site's model is written: temporaries stay small
    task_cache_days: int = 30  # Prefect reuses a cached parse this long; `sitesift gc` drops older entries


@dataclass(frozen=True)
class StoreConfig:
    keep_superseded_s: float = 3600.0  # a replaced version stays readable this long (the previous one always)


@dataclass(frozen=True)
class PipelineConfig:
    load: LoadConfig = field(default_factory=LoadConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    store: StoreConfig = field(default_factory=StoreConfig)  # housekeeping of <out>: not in to_dict()

    def to_dict(self) -> dict:
        """The settings that make the data (what the fingerprint and the Parquet metadata record)."""
        settings = asdict(self)
        del settings["store"]
        return settings

    def fingerprint(self) -> str:
        """Short stable hash of every parameter: which settings made a dataset."""
        return _hash(self.to_dict())

    def parse_fingerprint(self, version: str) -> str:
        """What a page's parse depends on: a change re-parses every page."""
        return _hash({"version": version, "load": asdict(self.load), "extract": asdict(self.extract)})

    def model_fingerprint(self, version: str) -> str:
        """What a site's model and rows depend on beyond the parse: a change re-learns every site."""
        return _hash(
            {
                "version": version,
                "minhash": asdict(self.minhash),
                "boilerplate": asdict(self.boilerplate),
                "extract": asdict(self.extract),
                "dedup": asdict(self.dedup),
            }
        )


def _hash(obj: dict) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
