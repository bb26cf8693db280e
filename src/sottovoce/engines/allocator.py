"""The C allocator's free memory, given back to the system.

glibc's ``malloc`` keeps freed memory in its heaps for the next allocation (an arena per thread
that allocates: the engines' worker threads, CTranslate2's and llama.cpp's, numpy's buffers in
the request threads) and returns pages to the system only from a heap's top. After a burst of
work most of a heap is free but scattered, and stays resident. ``malloc_trim(0)`` walks every
arena and hands the free pages back (``madvise``); it takes a few milliseconds and is called
when the server is idle (:mod:`sottovoce.api.idle`). Another C library: nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc (musl, macOS): no malloc_trim
        return None
    return libc


def trim_free_memory() -> bool:
    """Give the allocator's free pages back to the system (blocking). False: not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
