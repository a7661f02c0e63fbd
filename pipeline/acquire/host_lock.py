"""One crawl per host at a time: an advisory lock in the host's raw folder, held for the whole host
crawl, so two crawls never write, or salvage, each other's live WARC file and crawl-log journal.
Touches disk."""

from __future__ import annotations

from pathlib import Path

from pipeline.locks import RunLock, RunLocked

CRAWL_LOCK_NAME = ".sitesift-crawl.lock"


class HostLocked(RuntimeError):
    """Another crawl is crawling this host."""


class HostLock(RunLock):
    """`with HostLock(raw / folder, host):` - raises HostLocked at once when another process holds it.
    The kernel drops the lock when the holder exits, even on SIGKILL: no stale lock files."""

    def __init__(self, folder: Path, host: str):
        super().__init__(folder)
        self.path = folder / CRAWL_LOCK_NAME
        self.host = host

    def __enter__(self) -> HostLock:
        try:
            super().__enter__()
        except RunLocked:
            holder = self.path.read_text(errors="replace").strip() or "?"
            raise HostLocked(
                f"another sitesift crawl (pid {holder}) is crawling {self.host} into {self.path.parent}; "
                f"this crawl did not start. Try again when it has finished."
            ) from None
        return self
