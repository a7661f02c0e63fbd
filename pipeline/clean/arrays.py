"""numpy helpers the site model's counting needs. Pure."""

from __future__ import annotations

import numpy as np


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """np.unique(values) by sorting. numpy 2.4's np.unique without return options goes through a hash
    table that is far slower on our integer codes: 5.1 s against 0.1 s for 10M int64 codes with 3M
    distinct values (measured in bench/RESULTS.md), a third of the time to learn a 100,000-page site."""
    ordered = np.sort(values, axis=None)
    if len(ordered) == 0:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]
