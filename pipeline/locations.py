"""Where raw pages and datasets live: a local folder (a path, or a file:// URL) or a folder on any
fsspec file system (s3://bucket/raw, gs://bucket/out). Credentials and endpoints come from the file
system's own configuration (for S3 the AWS variables and files, AWS_ENDPOINT_URL included), never
from here. Pure, except `fs()`, which makes (and fsspec caches) the file system client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Remote:
    """A folder on an fsspec file system: only its URL, so it can travel to another process."""

    url: str  # protocol://bucket/prefix, without a trailing slash

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0]

    @property
    def path(self) -> str:
        """The folder as the file system names it (bucket/prefix)."""
        return self.url.split("://", 1)[1]

    def fs(self) -> Any:
        import fsspec

        return fsspec.filesystem(self.protocol)

    def key(self, rel: str) -> str:
        """The file system's name of `rel` below this folder."""
        return f"{self.path}/{rel}" if rel else self.path

    @property
    def name(self) -> str:
        """The last part of the folder's path, as Path.name."""
        return self.url.rsplit("/", 1)[-1]

    def child(self, rel: str) -> Remote:
        return Remote(f"{self.url}/{rel}")

    def __str__(self) -> str:
        return self.url


Location = Path | Remote


def location(where: str | Path) -> Location:
    """A path, a file:// URL (both: a local folder) or another fsspec URL (a Remote)."""
    if isinstance(where, Path):
        return where
    if "://" not in where:
        return Path(where)
    parts = urlsplit(where)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if not parts.netloc:
        raise ValueError(f"{where}: a URL needs a bucket or host after {parts.scheme}://")
    return Remote(where.rstrip("/"))


def is_remote(where: Location) -> bool:
    return isinstance(where, Remote)
