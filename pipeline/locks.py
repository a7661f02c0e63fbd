"""One writer at a time: an advisory lock (fcntl) on a file, held for a whole run (an output folder)
or a whole crawl (a host's raw folder). Standard library only, so every layer may use it. Touches disk."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".sitesift.lock"


class RunLocked(RuntimeError):
    """Another run holds the output folder."""


class RunLock:
    """`with RunLock(out):` - raises RunLocked at once when another process is writing to `out`.
    The kernel drops the lock when the holder exits, even on SIGKILL: no stale lock files."""

    def __init__(self, out: Path):
        self.path = out / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunLocked(
                f"another sitesift run (pid {holder}) is writing to {self.path.parent}; "
                f"this run did not start. Try again when it has finished."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
