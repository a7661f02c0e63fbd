"""Folders and URLs as the run takes them: a path or file:// URL is a local folder, any other URL a
folder on an fsspec store; a URL without a bucket is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.locations import Remote, location


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("raw", Path("raw")),
        ("/data/raw", Path("/data/raw")),
        (Path("raw"), Path("raw")),
        ("file:///data/my%20raw", Path("/data/my raw")),
        ("s3://bucket/raw/", Remote("s3://bucket/raw")),
        ("gs://bucket", Remote("gs://bucket")),
    ],
)
def test_location_of_paths_and_urls(given, expected):
    assert location(given) == expected


def test_a_remote_names_its_objects_below_its_folder():
    out = Remote("s3://bucket/out")
    assert (out.protocol, out.path, out.key("_runs/current")) == (
        "s3",
        "bucket/out",
        "bucket/out/_runs/current",
    )
    assert out.child("_runs/x").url == "s3://bucket/out/_runs/x" and str(out) == "s3://bucket/out"


def test_a_url_without_a_bucket_is_refused():
    with pytest.raises(ValueError, match="needs a bucket"):
        location("s3:///raw")
