"""sitesift's library: pure, typed stages (acquire -> clean -> store). Never imports Prefect."""

PIPELINE_VERSION = "0.1.0"
