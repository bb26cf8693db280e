"""Identifiers: a prefix, then a time-ordered, unguessable token."""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_RANDOM_DIGITS = 12
_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def _next() -> tuple[int, int]:
    # Within one millisecond the random part counts up from its last value (as ULIDs do), so
    # ids made by this process sort in creation order.
    global _last
    with _lock:
        ms = now_ms()
        last_ms, last_random = _last
        if ms <= last_ms:
            ms, random_part = last_ms, last_random + 1 + secrets.randbelow(1 << 16)
        else:
            random_part = secrets.randbits(56)
        _last = (ms, random_part)
        return ms, random_part


def new_id(prefix: str) -> str:
    """``prefix_`` + 9 base-36 digits of milliseconds + 12 random ones (sorts by creation)."""
    ms, random_part = _next()
    return f"{prefix}_{_base36(ms, 9)}{_base36(random_part, _RANDOM_DIGITS)}"


def new_request_id() -> str:
    return new_id("req")


def now_ms() -> int:
    return time.time_ns() // 1_000_000
