"""Imported by the worker processes' fork server only (pipeline/forkserver.py PRELOAD): reads
py3langid's model once (~1 s on one core), so that every worker that builds sites inherits it instead
of reading it again (workers are replaced every `max_tasks_per_worker` tasks). Never imported by the
main process."""

from __future__ import annotations

from pipeline.clean.language import load_model

load_model()
