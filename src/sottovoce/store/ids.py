"""Identifiers: a prefix, then a time-ordered, unguessable token."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def new_id(prefix: str) -> str:
    """``prefix_`` + 9 base-36 digits of milliseconds + 12 random ones (sorts by creation)."""
    return f"{prefix}_{_base36(now_ms(), 9)}{_base36(secrets.randbits(62), 12)}"


def new_request_id() -> str:
    return new_id("req")


def now_ms() -> int:
    return time.time_ns() // 1_000_000
