"""Checks of the command's inputs that run before Prefect starts, so a bad path fails at once with
one line instead of a traceback after the API's start-up. Standard library only for local folders
(milliseconds). Touches disk: a folder to write to is created, and a small probe file written and
removed in it; a URL is checked on its store (one or two requests)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile

from pipeline.locations import Location, Remote, location

MIN_FREE_BYTES = 32 << 20  # below this on the output's disk a run would fail part-way
PROBE_BYTES = 4096  # one block: a full disk refuses it


class BadInput(Exception):
    """A path or value the command cannot use; the message is one line for the user."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's cpuset), not the machine's."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def location_of(value: str, option: str) -> Location:
    """A folder or a URL as the run takes it."""
    try:
        return location(value)
    except ValueError as exc:
        raise BadInput(f"{option} {exc}") from exc


def _remote_folder(where: Remote, option: str, must_exist: bool) -> None:
    """A folder on a store: fsspec knows its protocol and has the package for it, its bucket can be
    reached, and (to read from) the folder has objects."""
    try:
        fs = where.fs()
    except (ImportError, ValueError) as exc:  # "Install gcsfs to access ...", "Protocol not known: ..."
        raise BadInput(f"{option} {where}: {exc}") from exc
    bucket = where.path.split("/", 1)[0]
    try:
        if not fs.exists(bucket):
            raise BadInput(f"{option} {where}: bucket {bucket} does not exist")
        if must_exist and not fs.isdir(where.path):
            raise BadInput(f"{option} {where} does not exist")
    except OSError as exc:
        raise BadInput(f"{option} {where} cannot be reached: {type(exc).__name__}: {exc}") from exc


def readable_folder(path: Location, option: str) -> None:
    """A folder to read from: exists, is a folder, can be listed."""
    if isinstance(path, Remote):
        return _remote_folder(path, option, must_exist=True)
    if not path.exists():
        raise BadInput(f"{option} {path} does not exist")
    if not path.is_dir():
        raise BadInput(f"{option} {path} is a file, not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise BadInput(f"{option} {path} is not readable (permission denied)")


def has_pages(raw: Location) -> bool:
    """Any file the run would read under `raw`: the rules of pipeline.acquire.files.list_relative
    (hidden files and folders skipped, symbolic links not followed), stopping at the first."""
    if isinstance(raw, Remote):
        prefix = raw.path + "/"
        return any(
            not any(part.startswith(".") for part in key[len(prefix) :].split("/"))
            for key in raw.fs().find(raw.path)
        )
    for dirpath, dirnames, filenames in os.walk(raw):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and not os.path.islink(os.path.join(dirpath, name)):
                return True
    return False


def writable_folder(path: Location, option: str) -> None:
    """A folder to write to: created if missing, a probe block written and removed, and room left on
    its disk (on a store: its bucket exists). Each failure is one line naming the option and the path."""
    if isinstance(path, Remote):
        return _remote_folder(path, option, must_exist=False)
    if path.exists() and not path.is_dir():
        raise BadInput(f"{option} {path} is a file, not a folder")
    ancestor = next((p for p in (path, *path.parents) if p.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        raise BadInput(f"{option} {path}: {ancestor} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".sitesift-probe-", dir=path)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise BadInput(f"{option} {path} {_why_not_writable(exc)}") from exc
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_BYTES:
        raise BadInput(
            f"{option} {path}: only {free / 1e6:.1f} MB free on its disk "
            f"(a run needs at least {MIN_FREE_BYTES >> 20} MB)"
        )


def _why_not_writable(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "is not writable (permission denied)"
    if exc.errno == errno.EROFS:
        return "is on a read-only file system"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "cannot be written: its disk is full"
    return f"cannot be written: {exc.strerror or exc}"
