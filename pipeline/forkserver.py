"""The fork server the parser processes come from, startable before anything heavy is imported.
Light on purpose (the standard library only): its imports (PRELOAD, ~1 s on one core) then overlap
the caller's own (~0.5 s for the pipeline), instead of following them. Touches processes only."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# imported once by the fork server, not by every new worker (~1 s each); trafilatura and htmldate are
# imported where they are called, so the main process, which never extracts, does not pay for them.
# pandas: pyarrow imports it at the first array it makes from Python objects, which every parse does;
# extractor_preload: trafilatura's fallback extractors loaded once (~0.4 s), not on each worker's first page;
# language_preload: py3langid's model read once (~1 s), not by each worker that builds sites
PRELOAD = [
    "pipeline.ignore_interrupts",  # first: every worker starts with Ctrl-C ignored
    "pipeline.run.pages",
    "pipeline.run.sites",
    "pandas",
    "trafilatura",
    "htmldate",
    "pipeline.clean.extractor_preload",
    "pipeline.clean.language_preload",
]


def start_fork_server() -> None:
    """Start the fork server without waiting for it (the first worker waits until its imports are
    done). The server is a fresh process, never a fork of this one, so any time is safe; calling
    this again while it runs does nothing."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()
