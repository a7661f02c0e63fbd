"""Imported by the parser processes' fork server only (pipeline/forkserver.py PRELOAD): runs
trafilatura once on a tiny page, so that what its fallback extractors load on their first call
(jusText's stoplists of every language, readability; ~0.4 s) is loaded once and inherited by every
worker, instead of costing each worker's first page that much (and pushing it past a short
per-page time limit). Never imported by the main process."""

from __future__ import annotations

import trafilatura

trafilatura.bare_extraction("<html><body><p>A page to warm the extractor up.</p></body></html>")
