"""Processes started by the parser pool's fork server ignore Ctrl-C from their first instruction: a
terminal's SIGINT reaches the whole process group, and a worker still starting (before the pool's
initializer runs) must not die of it, or the pool breaks instead of the run being interrupted."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
from pathlib import Path

from pipeline.forkserver import start_fork_server

ROOT = Path(__file__).resolve().parents[2]


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


def _never_runs(lock) -> None:
    raise AssertionError("the worker cannot have started")


def test_a_worker_starting_after_its_pool_was_released_prints_nothing():
    """Ctrl-C: the main process releases the pool's semaphores while the fork server may still be
    starting a worker for it. That worker fails as it unpickles the semaphore; the run's one line
    must not be buried under its traceback."""
    code = f"""
import multiprocessing, _multiprocessing, sys
sys.path.insert(0, {str(ROOT)!r})
from tests.unit.test_forkserver import _never_runs
from pipeline.forkserver import start_fork_server
if __name__ == "__main__":
    start_fork_server()
    context = multiprocessing.get_context("forkserver")
    lock = context.Lock()
    _multiprocessing.sem_unlink(lock._semlock.name)  # released, as by a run that is stopping
    child = context.Process(target=_never_runs, args=(lock,))
    child.start()
    child.join(120)
    print(child.exitcode)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.stdout.strip() == "1", done.stderr  # the worker did fail
    # the worker's traceback (the parent's own cleanup of the semaphore unlinked here may complain)
    assert "SemLock._rebuild" not in done.stderr, done.stderr


def test_other_failures_of_a_starting_worker_are_still_reported(capsys):
    from pipeline.ignore_interrupts import quiet_when_pool_released

    try:
        raise FileNotFoundError("some/input.warc.gz")
    except FileNotFoundError as exc:
        quiet_when_pool_released(type(exc), exc, exc.__traceback__)
    assert "FileNotFoundError: some/input.warc.gz" in capsys.readouterr().err
