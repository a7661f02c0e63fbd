"""sitesift's library: pure, typed stages (acquire -> clean -> store). Never imports Prefect."""

PIPELINE_VERSION = "0.3.0"  # bump when parsing or state changes: re-runs then parse everything again
