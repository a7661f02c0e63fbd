"""Prefect flow `process`: raw pages -> site boilerplate stripped -> titles and dates -> Parquet.

Only wiring: every step is a function of pipeline/. Tasks are coarse (a batch of pages, a site) and
take no cache (inputs are large page bytes; caching on content hashes comes with re-runs).
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from pipeline import run as steps
from pipeline.clean.site import SiteResult, build_site
from pipeline.config import BoilerplateConfig, ExtractConfig, PipelineConfig
from pipeline.records import ParsedPage, RawInput, Skipped
from flows.progress import RunProgress

PARSE_BATCH = 50  # pages per parse task: coarse enough that task overhead stays negligible


@task(name="load-inputs", cache_policy=NO_CACHE)
def load_inputs(raw: Path, cfg: PipelineConfig) -> tuple[list[RawInput], list[Skipped]]:
    return steps.load_inputs(raw, cfg)


@task(name="parse-pages", cache_policy=NO_CACHE)
def parse_pages(batch: list[RawInput], cfg: PipelineConfig) -> tuple[list[ParsedPage], list[Skipped]]:
    return steps.parse_inputs(batch, cfg)


@task(name="build-site", cache_policy=NO_CACHE)
def build_site_task(site: str, pages: list[ParsedPage], cfg: PipelineConfig) -> SiteResult:
    return build_site(site, pages, cfg)


@task(name="write-parquet", cache_policy=NO_CACHE)
def write_parquet(out: Path, output: steps.RunOutput, cfg: PipelineConfig) -> str:
    return str(steps.write_output(out, output, cfg))


def make_config(min_pages: int, min_share: float, use_trafilatura: bool) -> PipelineConfig:
    return PipelineConfig(
        boilerplate=BoilerplateConfig(min_pages=min_pages, min_share=min_share),
        extract=ExtractConfig(use_trafilatura=use_trafilatura),
    )


def summary_rows(summary: dict) -> list[dict]:
    return [
        {
            "site": s["site"], "pages": s["pages"], "boilerplate share": s["boilerplate_share"],
            "boilerplate clusters": s["boilerplate_clusters"], "with title": s["with_title"],
            "with published": s["with_published"], "with updated": s["with_updated"],
        }
        for s in summary["sites"]
    ]


@flow(name="process", log_prints=True)
def process(raw: str = "raw", out: str = "processed", min_pages: int = 3, min_share: float = 0.0,
            use_trafilatura: bool = True) -> dict:
    """Process every page under `raw` into the Parquet datasets under `out`; returns the run summary."""
    logger = get_run_logger()
    cfg = make_config(min_pages, min_share, use_trafilatura)
    inputs, skipped = load_inputs(Path(raw), cfg)
    n_inputs = len(inputs) + len(skipped)
    logger.info("found %d inputs under %s (%d skipped while loading)", n_inputs, raw, len(skipped))

    progress = RunProgress(total=len(inputs), description="pages parsed")
    progress.start()
    parsed: list[ParsedPage] = []
    for start in range(0, len(inputs), PARSE_BATCH):
        batch = inputs[start:start + PARSE_BATCH]
        got, bad = parse_pages(batch, cfg)
        parsed.extend(got)
        skipped.extend(bad)
        progress.advance(len(batch))

    results = [build_site_task(site, pages, cfg) for site, pages in steps.group_by_site(parsed).items()]
    output = steps.finish(results, skipped, cfg, n_inputs=n_inputs)
    version = write_parquet(Path(out), output, cfg)
    summary = output.summary
    create_table_artifact(summary_rows(summary) or [{"site": "(none)"}], key="sitesift-process-summary",
                          description=f"pages {summary['pages']}, skipped {summary['skipped']} "
                                      f"{summary['skipped_by_reason']}, duplicate clusters "
                                      f"{summary['duplicate_clusters']}")
    logger.info("wrote %s", version)
    return summary
