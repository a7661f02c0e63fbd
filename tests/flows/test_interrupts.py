"""The pieces of the interrupt path, with real signals to small real processes: a second signal
forces the exit, so does a clean-up that overruns its grace period, a publication is never cut in
the middle, and a cancelled parser pool ends its workers and releases the threads that wait on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import CancelledError

import psutil
import pytest

from bench.generate import page_html
from pipeline.config import PipelineConfig
from pipeline.records import RawInput
from pipeline.run.pool import ParsePool
from tests.flows import cli_process as cp
from tests.support import REPO

STUCK_CLEANUP = """
import subprocess, sys, time
from flows.signals import Interrupts

child = subprocess.Popen(["sleep", "600"])
print(child.pid, flush=True)
with Interrupts(farewell=lambda: "forced out", grace={grace}):
    try:
        print("running", flush=True)
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        print("cleaning up", flush=True)
        while True:  # a clean-up that never ends
            time.sleep(0.05)
"""


def script(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def read_until(proc: subprocess.Popen, wanted: str) -> None:
    line = proc.stdout.readline().strip()
    assert line == wanted, (line, proc.stderr.read() if proc.poll() is not None else "")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_ends_a_stuck_clean_up_and_its_children(sig):
    proc = script(STUCK_CLEANUP.format(grace=3600))
    try:
        child = psutil.Process(int(proc.stdout.readline()))
        read_until(proc, "running")
        os.kill(proc.pid, sig)
        read_until(proc, "cleaning up")
        os.kill(proc.pid, sig)
        proc.wait(timeout=cp.HANG)
        assert proc.returncode == 128 + sig
        assert cp.lines(proc.stderr.read()) == ["forced out"]
        cp.poll(lambda: not cp.alive([child]), bound=30, what="the child process ended")
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None


def test_a_clean_up_that_overruns_its_grace_period_is_ended():
    proc = script(STUCK_CLEANUP.format(grace=1))
    try:
        child = psutil.Process(int(proc.stdout.readline()))
        read_until(proc, "running")
        os.kill(proc.pid, signal.SIGINT)
        read_until(proc, "cleaning up")
        proc.wait(timeout=cp.HANG)
        assert proc.returncode == 130 and cp.lines(proc.stderr.read()) == ["forced out"]
        cp.poll(lambda: not cp.alive([child]), bound=30, what="the child process ended")
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None


def test_a_signal_during_publishing_waits_for_it_to_finish(tmp_path):
    go = tmp_path / "go"
    proc = script(
        f"""
        import pathlib, time
        from flows.signals import Interrupts, deferred_interrupts

        go = pathlib.Path({str(go)!r})
        with Interrupts():
            try:
                with deferred_interrupts():
                    print("publishing", flush=True)
                    while not go.exists():
                        time.sleep(0.02)
                    print("published", flush=True)
                print("after the block", flush=True)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
        """
    )
    try:
        read_until(proc, "publishing")
        os.kill(proc.pid, signal.SIGINT)
        go.touch()  # the signal has been sent before the block may go on
        stdout, stderr = proc.communicate(timeout=cp.HANG)
        assert cp.lines(stdout) == ["published", "interrupted"], stderr
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None


def pages(n: int) -> list[RawInput]:
    import random

    return [
        RawInput(
            site_hint="alpha",
            source=f"alpha/page-{i}.html",
            data=page_html("alpha", i, random.Random(i)).encode(),
            kind="html",
        )
        for i in range(n)
    ]


def waiting_thread(tables) -> tuple[threading.Thread, list]:
    got: list = []

    def wait() -> None:
        try:
            got.append(tables())
        except BaseException as exc:  # what the waiting thread gets is the point of the tests
            got.append(exc)

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, got


def pool_workers() -> list[psutil.Process]:
    """The parser processes: children of this process's fork server."""
    servers = [p for p in psutil.Process().children() if "forkserver" in " ".join(p.cmdline())]
    return [w for server in servers for w in server.children()]


def test_cancel_ends_the_workers_and_releases_the_threads_waiting_on_them():
    """What a signal handler does (ParsePool.cancel_all): the threads waiting on the workers get
    CancelledError instead of waiting on, the workers end, and no new work is taken."""
    cfg = PipelineConfig()
    with ParsePool(2) as pool:
        waiter, got = waiting_thread(pool.submit(pages(300), cfg))
        cp.poll(lambda: len(pool_workers()) >= 2, bound=cp.HANG, what="the workers started")
        workers = pool_workers()
        pool.cancel()
        waiter.join(timeout=cp.HANG)
        assert not waiter.is_alive(), "the waiting thread was not released"
        assert len(got) == 1 and isinstance(got[0], CancelledError)
        with pytest.raises(CancelledError):
            pool.submit(pages(1), cfg)
    cp.poll(lambda: not cp.alive(workers), bound=30, what="the workers ended")


def test_a_pool_left_on_ctrl_c_cancels_what_threads_wait_on():
    """Leaving the block on KeyboardInterrupt, with a terminal's Ctrl-C also sent to the workers
    (they leave it to the main process): the waiting thread gets CancelledError."""
    cfg = PipelineConfig()
    with pytest.raises(KeyboardInterrupt), ParsePool(2) as pool:
        waiter, got = waiting_thread(pool.submit(pages(300), cfg))
        cp.poll(lambda: len(pool_workers()) >= 2, bound=cp.HANG, what="the workers started")
        workers = pool_workers()
        for worker in workers:
            os.kill(worker.pid, signal.SIGINT)
        raise KeyboardInterrupt  # as the main thread gets it
    waiter.join(timeout=cp.HANG)
    assert not waiter.is_alive(), "the waiting thread was not released"
    assert len(got) == 1 and isinstance(got[0], CancelledError)
    cp.poll(lambda: not cp.alive(workers), bound=30, what="the workers ended")
