"""Process hardening at start-up: nothing of process memory may land on disk."""

from __future__ import annotations

import resource


def disable_core_dumps() -> None:
    """A crash must not write process memory (and the content in it) to a core file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
