"""The C allocator: a fixed mmap threshold, and free memory given back to the system.

glibc's ``malloc`` serves a large block (above its *mmap threshold*) from a mapping of its own,
unmapped when freed, and everything else from heaps (an arena per thread that allocates: the
engines' workers, CTranslate2's and llama.cpp's threads, the request threads' numpy buffers).
By default the threshold moves: each time a mapped block is freed it rises to that block's size,
up to 32 MB. After loading models and a few decodes, buffers of several MB land in the heaps,
interleaved with small long-lived blocks, and stay resident once freed (about 45 MB after a
handful of realtime sessions, measured by ``bench/memory.py``; ``malloc_trim`` did not get it
back). :func:`fix_mmap_threshold` pins the threshold at 4 MiB at start-up: blocks above it are
mapped and unmapped as they come and go (the engines' calls measured no slower: 0.99 for Whisper
and Piper; 128 KiB, glibc's starting value, made Whisper 15 % slower). An operator's own
``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES`` wins.

:func:`trim_free_memory` (``malloc_trim(0)``) walks every arena and hands its free pages back
(``madvise``); it takes a few milliseconds and is called when the server is idle
(:mod:`sottovoce.api.idle`). Another C library (musl, macOS): both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from typing import Any

M_MMAP_THRESHOLD = -3
"""``mallopt``'s parameter number (malloc.h)."""
MMAP_THRESHOLD = 4 * 1024 * 1024


@functools.cache
def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc (musl, macOS): no malloc_trim
        return None
    return libc


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold (call it at start-up, before the engines load). False: not
    glibc, or the operator set the allocator's own variables."""
    libc = _glibc()
    if libc is None or "MALLOC_MMAP_THRESHOLD_" in os.environ or "GLIBC_TUNABLES" in os.environ:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim_free_memory() -> bool:
    """Give the allocator's free pages back to the system (blocking). False: not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
