"""Ctrl-C and SIGTERM for the `sitesift` command: the first signal stops the run within seconds
(the main thread gets KeyboardInterrupt, parser processes are ended, waiting threads released), a
second one, or a run that has not stopped GRACE_SECONDS later, ends the process at once with its
child processes. Publishing a version is never cut in the middle (deferred_interrupts).
Touches processes only."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType
from typing import NoReturn

import psutil

GRACE_SECONDS = 5.0  # after the first signal, the run has this long to stop cleanly
HANDLED = (signal.SIGINT, signal.SIGTERM)

# held while a version is being published: a forced exit waits for it (a switch takes milliseconds)
_publishing = threading.Lock()


class Interrupts:
    """`with Interrupts(on_stop=[...], farewell=...) as interrupts:` around a run in the main thread.
    On the first SIGINT or SIGTERM: each `on_stop()` runs (stop what threads wait on), Prefect's
    console and API log errors are silenced, and KeyboardInterrupt is raised in the main thread;
    `signum` says which signal came. On a second signal, or when the run has not ended `grace`
    seconds later: `farewell()` is printed, the child processes are ended, and the process exits
    with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports it."""

    def __init__(
        self,
        on_stop: Sequence[Callable[[], None]] = (),
        farewell: Callable[[], str] = lambda: "interrupted",
        grace: float = GRACE_SECONDS,
    ):
        self.on_stop = list(on_stop)
        self.farewell, self.grace = farewell, grace
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def triggered(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def __enter__(self) -> Interrupts:
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def reclaim(self) -> None:
        """Take SIGTERM back from Prefect, which swaps in its own handler while a flow runs (for
        its runners' cancellations; a flow called in-process has none): SIGTERM then stops a run
        the way Ctrl-C does. Main thread only; Prefect puts this handler back when the flow ends."""
        in_main = threading.current_thread() is threading.main_thread()
        if in_main and self._previous and signal.getsignal(signal.SIGTERM) is not self._handle:
            signal.signal(signal.SIGTERM, self._handle)

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            self.force()
        self.signum = signum
        threading.Thread(target=self._watchdog, name="sitesift-interrupt-watchdog", daemon=True).start()
        logging.raiseExceptions = False  # Prefect's "Error logging to API" once its server has gone
        for stop in self.on_stop:
            with suppress(Exception):  # best effort: one failed step must not keep the run going
                stop()
        raise KeyboardInterrupt

    def _watchdog(self) -> None:
        time.sleep(self.grace)
        self.force()

    def force(self) -> None:
        """End now: the line for the user, then the child processes, then this process."""
        with _publishing:
            try:
                os.write(2, (self.farewell() + "\n").encode())
            finally:
                exit_now(self.exit_code)


def exit_now(code: int) -> NoReturn:
    """Exit without the interpreter's exit handlers: once a run is interrupted, Prefect's (its last
    events and logs for an API server that Ctrl-C has ended too) would wait for a minute. The
    child processes are ended first."""
    end_children()
    os._exit(code)


def end_children(timeout: float = 1.0) -> None:
    """Terminate every descendant process (parser workers, the fork server, Prefect's temporary API
    server), then kill those still there after `timeout` seconds."""
    try:
        children = [p for p in psutil.Process().children(recursive=True) if not _is_resource_tracker(p)]
    except psutil.Error:
        return
    for child in children:
        with suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with suppress(psutil.Error):
            child.kill()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends, then are delivered to the handler that was in
    place: publishing a version is done whole or not begun. In the main thread only (elsewhere
    Python runs no signal handler anyway); a forced exit waits for the block too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    with _publishing:
        previous = {sig: signal.signal(sig, lambda n, _f: got.append(n)) for sig in HANDLED}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if got:
        signal.raise_signal(got[0])


def _is_resource_tracker(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker ends by itself once this process has exited, after
    unlinking what semaphores were left; killed, it would leak them."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(process.cmdline())
    except psutil.Error:
        return False
