"""Reading page files with a size limit: whole below it, one byte over it above (so "too_large" is seen)."""

import gzip

import pytest

from pipeline.acquire.files import _read_limited


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 350])
@pytest.mark.parametrize("gz", [False, True])
def test_read_limited_reads_whole_files_up_to_the_limit_and_one_byte_over_beyond(tmp_path, size, gz):
    content = bytes(range(256)) * 2
    content = content[:size]
    path = tmp_path / ("page.html.gz" if gz else "page.html")
    path.write_bytes(gzip.compress(content) if gz else content)
    got = _read_limited(path, 100)
    assert got == content[:101]
    assert (len(got) > 100) == (size > 100)
