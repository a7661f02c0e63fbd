"""Keeping memory flat on large sites. Touches process-wide settings only.

- Building a site allocates millions of small acyclic objects (blocks, tuples, strings); CPython's
  cyclic garbage collector then keeps re-walking all of them, which cost a third of a 10,000-page
  site's build time (11 of 35 s). Pausing it for such a step is the usual cure.
- pyarrow's default allocator (mimalloc) keeps freed buffers: reading a 100,000-page site's parsed
  state left 1.5 GB resident for 0.58 GB of live Arrow data. jemalloc with an immediate decay gives
  them back (0.69 GB resident).
- glibc malloc keeps freed heap memory (numpy temporaries of a few MB once its mmap threshold has
  risen): clustering a 100,000-page site's texts left 0.5 GB resident after it returned. malloc_trim
  after such a step gives it back; a fixed low mmap threshold did too, but made that build 2x slower
  (every large temporary page-faulted afresh).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa


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
    return pa.default_memory_pool().backend_name


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once: find_library runs ldconfig in a subprocess (~20 ms a call)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc malloc_trim; elsewhere nothing to do)."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)
