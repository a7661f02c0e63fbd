"""Imported first by the worker processes' fork server (pipeline/forkserver.py PRELOAD), never by the
main process. Ctrl-C in a terminal reaches every process of its group, and it is the run's main
process that stops the workers. The fork server gives each worker it starts the SIGINT setting it
had before its own loop began, which this import makes "ignore": a worker still starting when
Ctrl-C arrives is not killed by it (pebble would report that as a broken pool, not an interruption)."""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
