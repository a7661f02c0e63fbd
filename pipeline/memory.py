"""Keeping memory flat on large sites. Touches process-wide settings only.

- Building a site allocates millions of small acyclic objects (blocks, tuples, strings); CPython's
  cyclic garbage collector then keeps re-walking all of them, which cost a third of a 10,000-page
  site's build time (11 of 35 s). Pausing it for such a step is the usual cure.
- pyarrow's default allocator (mimalloc) keeps freed buffers: reading a 100,000-page site's parsed
  state left 1.5 GB resident for 0.58 GB of live Arrow data. jemalloc with an immediate decay gives
  them back (0.69 GB resident).
- glibc malloc raises its mmap threshold each time a large block is freed (up to 32 MB), after which
  numpy's temporaries of a few MB come from the heap and stay resident once freed (clustering a
  100,000-page site's texts left 0.5 GB behind). A fixed threshold keeps them on mmap.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import functools

import pyarrow as pa
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block without cyclic collections (reference counting still frees everything acyclic)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def arrow_returns_memory() -> str:
    """Use jemalloc with immediate decay for Arrow buffers in this process, when pyarrow has it;
    returns the allocator in use."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        pass
    _malloc_returns_memory()
    return pa.default_memory_pool().backend_name


_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


def _malloc_returns_memory() -> None:
    """Allocations of 1 MB and more always on their own mmap, given back when freed (glibc only)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune
