"""Processes started by the parser pool's fork server ignore Ctrl-C from their first instruction: a
terminal's SIGINT reaches the whole process group, and a worker still starting (before the pool's
initializer runs) must not die of it, or the pool breaks instead of the run being interrupted."""

from __future__ import annotations

import multiprocessing
import signal

from pipeline.forkserver import start_fork_server


def _report_sigint(queue) -> None:
    queue.put(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)


def test_a_process_from_the_fork_server_starts_with_ctrl_c_ignored():
    start_fork_server()
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    child = context.Process(target=_report_sigint, args=(queue,))  # no initializer: as it is born
    child.start()
    try:
        assert queue.get(timeout=120) is True
    finally:
        child.join(30)
    assert child.exitcode == 0
