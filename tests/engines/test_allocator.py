"""The C allocator's mmap threshold, pinned at start-up (glibc only), in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sottovoce.engines.allocator import _glibc

pytestmark = pytest.mark.skipif(_glibc() is None, reason="glibc's allocator only")

PROBE = """
import ctypes, sys
from sottovoce.engines.allocator import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
print(fix_mmap_threshold())
libc.free(libc.malloc(24 << 20))  # a mapped block freed: a moving threshold climbs to 24 MB
block = libc.malloc(8 << 20)
print(libc.mallinfo2().hblkhd >= 8 << 20)  # is the 8 MB block a mapping of its own?
"""


def probe(env: dict[str, str]) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_block_of_several_mb_is_mapped_and_given_back_when_freed() -> None:
    # Without the pin, the 8 MB block would come from a heap, and stay resident once freed.
    assert probe({}) == ["True", "True"]


def test_the_operators_own_setting_wins() -> None:
    assert probe({"MALLOC_MMAP_THRESHOLD_": str(32 << 20)}) == ["False", "False"]
