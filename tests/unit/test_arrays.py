import numpy as np
import pytest

from pipeline.clean.arrays import unique_sorted


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32])
def test_unique_sorted_equals_numpy_unique(dtype):
    rng = np.random.default_rng(7)
    for n, k in [(0, 1), (1, 1), (1000, 10), (5000, 100000)]:
        values = rng.integers(0, k, n).astype(dtype)
        got = unique_sorted(values)
        assert got.dtype == values.dtype
        assert np.array_equal(got, np.unique(values))
    assert len(values) == 5000  # the input is not sorted in place
    assert not np.all(values[:-1] <= values[1:])
