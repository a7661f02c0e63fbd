"""Imported first by the worker processes' fork server (pipeline/forkserver.py PRELOAD), never by the
main process. Ctrl-C in a terminal reaches every process of its group, and it is the run's main
process that stops the workers and says so in one line. Two things a worker still starting at that
moment would otherwise do, both inherited from the fork server:

- die of the SIGINT: the fork server gives each worker the SIGINT setting it had before its own loop
  began, which this import makes "ignore" (pebble would report a killed worker as a broken pool);
- print a traceback: the main process releases the pool's semaphores as it stops, and a worker
  that unpickles its pool after that fails with FileNotFoundError in multiprocessing's SemLock,
  which the fork server hands to sys.excepthook. That one failure is the run ending, not an error:
  the hook set here passes every other exception on to Python's own."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from types import TracebackType

signal.signal(signal.SIGINT, signal.SIG_IGN)

_PYTHONS_HOOK = sys.excepthook
_SEMAPHORES = os.path.join("multiprocessing", "synchronize.py")


def pool_released_before_start(kind: type[BaseException], tb: TracebackType | None) -> bool:
    """Whether a worker failed only because its pool's semaphores were released before it started."""
    return (
        issubclass(kind, FileNotFoundError)
        and tb is not None
        and (traceback.extract_tb(tb)[-1].filename.endswith(_SEMAPHORES))
    )


def quiet_when_pool_released(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if not pool_released_before_start(kind, tb):
        _PYTHONS_HOOK(kind, exc, tb)


sys.excepthook = quiet_when_pool_released
