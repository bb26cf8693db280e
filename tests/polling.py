"""Waiting for the server by asking it, not by sleeping.

A fixed sleep is either too short on a busy machine (a flaky failure) or too long on an idle one
(a slow suite). ``wait_for`` asks again and again until the answer is there or a deadline
passes. To prove that something did *not* happen, wait for a positive signal that the server is
done (the usage record of the request, which is written after its response ends) and then look.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE_S = 30.0
"""Long enough for a loaded 2-core machine; a passing wait returns as soon as it can."""


def wait_for(
    probe: Callable[[], T | None],
    what: str,
    *,
    timeout: float = DEADLINE_S,
    interval: float = 0.02,
) -> T:
    """Call ``probe`` until it returns something truthy, and return that.

    Fails the test (``AssertionError`` naming ``what`` and the last answer) at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"gave up after {timeout:g} s waiting for {what} (last: {value!r})"
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)
