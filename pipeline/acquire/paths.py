"""Raw file names as sources, and opening raw files without ever blocking. Touches disk (opens only).

A source is a file's path relative to the raw root as text that Parquet can hold: a name that is not
valid UTF-8 keeps its odd bytes as `\\xNN` (so `b"caf\\xe9.html"` is the source `caf\\xe9.html`), and
`path_of` turns every source back into the file it names."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

_SURROGATE = re.compile("[\udc80-\udcff]")  # os.fsdecode's stand-ins for bytes that are not UTF-8
# a literal backslash is doubled where it could be read as the start of an escape: before x, a
# backslash, or a byte that becomes \xNN
_AMBIGUOUS_BACKSLASH = re.compile("\\\\(?=[\\\\x\udc80-\udcff])")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


class NotRegularFile(OSError):
    """A named pipe, device or socket where a page file was expected: never read (a pipe blocks the
    reader until someone writes to it, a device may never end)."""


def source_of(rel: str) -> str:
    """The source for a path relative to the raw root (from os.walk/os.scandir, which decode names
    with surrogateescape). A valid UTF-8 name without `\\x` or `\\\\` in it stays as it is."""
    if "\\" not in rel and (rel.isascii() or not _SURROGATE.search(rel)):
        return rel
    rel = _AMBIGUOUS_BACKSLASH.sub(r"\\\\", rel)
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", rel)


def rel_of(source: str) -> str:
    """The path relative to the raw root that a source (as made by source_of) names."""
    if "\\" not in source:
        return source
    return _ESCAPE.sub(
        lambda m: "\\" if m.group(1) == "\\" else chr(0xDC00 + int(m.group(1)[1:], 16)), source
    )


def path_of(raw_root: Path, source: str) -> Path:
    """The file a source (as made by source_of) names below raw_root."""
    return raw_root / rel_of(source)


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular one is, for its skip row; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def open_regular(path: Path) -> BinaryIO:
    """Open a raw file to read it, refusing all but a regular file (raises NotRegularFile). O_NONBLOCK:
    opening a named pipe that replaced a page since it was listed returns at once instead of waiting
    for a writer; O_NOFOLLOW: a file that became a symbolic link is not followed out of raw/."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        kind = special_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotRegularFile(f"{kind}: not read")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
