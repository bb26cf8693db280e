"""How much work one replica takes on: its limits, its engines' threads, and the cores both are
sized from (part of :class:`sottovoce.config.Settings`, as ``limits`` and ``engines``).

The cores a replica may use are not ``os.cpu_count()``: a container (``docker run --cpus``,
Kubernetes ``resources.limits.cpu``) sees every CPU of its host but may use only its cgroup's
CPU quota, and a process pinned with ``taskset`` only its affinity set. :func:`usable_cores`
reads both, so the Whisper worker pool and the live transcription limit fit what the process
can really use (``engines.cores`` says it outright).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from pydantic import BaseModel, Field

LIVE_TRANSCRIPTIONS_PER_CORE = 0.5
"""Live transcriptions one core keeps at real time (README, *Reliability*: how it was measured)."""


class LimitSettings(BaseModel):
    max_body_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    """Largest request body accepted, any endpoint (413 above it)."""
    max_json_bytes: int = Field(default=1024 * 1024, gt=0)
    """Largest JSON body accepted (413 above it)."""
    max_page_size: int = Field(default=1000, gt=0)
    """Largest page a listing endpoint returns."""
    max_concurrent_synthesis: int | None = Field(default=32, ge=1)
    """Speech synthesis requests (TTS, dialogue, speech-to-speech) running at once on this
    replica; more are refused with 429 and ``Retry-After`` (``None``: no limit)."""
    max_concurrent_transcription: int | None = Field(default=16, ge=1)
    """File transcription requests running at once on this replica (429 above)."""
    max_concurrent_sessions: int | None = Field(default=32, ge=1)
    """Sockets (live transcription, TTS sockets, conversations) open at once on this replica;
    more are closed at once with 1013 "try again later"."""
    max_live_transcriptions: int | None = Field(default=None, ge=1)
    """Sockets transcribing live on this replica's own cores at once (realtime STT on a local
    model, voice agent conversations); more are refused like any socket past a limit. Unset:
    ``live_transcriptions_per_core`` times the usable cores, at least 1."""
    live_transcriptions_per_core: float = Field(default=LIVE_TRANSCRIPTIONS_PER_CORE, gt=0)
    """What the derived ``max_live_transcriptions`` counts per core."""
    live_backlog_s: float = Field(default=1.0, ge=0)
    """A new live transcription is also refused while the local Whisper work is this far
    behind: a decode has waited longer for a worker, or a live session for its commit while its
    audio queued (0: never refused for that)."""
    workspace_max_concurrent_synthesis: int | None = Field(default=None, ge=1)
    """The same limits for each workspace alone (``None``: only the replica's apply)."""
    workspace_max_concurrent_transcription: int | None = Field(default=None, ge=1)
    workspace_max_concurrent_sessions: int | None = Field(default=None, ge=1)

    def live_transcriptions(self, cores: int) -> int:
        """The live transcription limit on ``cores`` usable cores."""
        if self.max_live_transcriptions is not None:
            return self.max_live_transcriptions
        return max(1, math.floor(cores * self.live_transcriptions_per_core))


class EngineSettings(BaseModel):
    preload: bool = True
    """Load the local engines at start-up (True) or on first use (False)."""
    preload_extra_voices: bool = False
    """With ``preload``, load hibari and Kokoro at start-up too (about 200 MB more resident);
    else each loads on the first request for one of its voices (2-5 s)."""
    threads: int = Field(default=2, gt=0)
    """Inference threads per Whisper decode (the local chat models have `llm.threads`)."""
    onnx_arena: bool = True
    """Keep onnxruntime's CPU memory arena for the ONNX voices (Piper, hibari, Kokoro): calls
    reuse its pages instead of faulting in fresh ones (Piper 7-15 % faster), and it is given back
    once the voice is unused for ``release_idle_s``. Off: a lower peak under load, slower
    calls."""
    release_idle_s: float = Field(default=2.0, ge=0)
    """An ONNX voice unused this long gives its arena back, even while other work runs; once no
    request or socket has been in flight this long after some work, every engine does and the
    allocator's free pages go back to the system too (0: never)."""
    cores: int | None = Field(default=None, ge=1)
    """Cores this replica may use; unset: its CPU affinity, capped by its cgroup's CPU quota.
    Whisper gets one decode worker per ``threads`` cores (at least one)."""

    def usable_cores(self) -> int:
        return self.cores if self.cores is not None else usable_cores()

    def whisper_workers(self) -> int:
        """Whisper decodes running at once (each on ``threads`` threads)."""
        return max(1, self.usable_cores() // self.threads)


def usable_cores(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may run on, capped by its cgroup's CPU quota (whole cores, at
    least one; a fractional quota is rounded down)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = cpu_quota(cgroup_root, _own_cgroups())
    if quota is not None:
        cpus = min(cpus, math.floor(quota))
    return max(1, cpus)


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per controller (``""``: the cgroup v2 hierarchy)."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(","):
            paths[controller] = path
    return paths


def cpu_quota(cgroup_root: Path, own: dict[str, str]) -> float | None:
    """CPUs' worth of time the cgroup quota allows (``None``: no quota): cgroup v2's
    ``cpu.max`` (``"150000 100000"``: 1.5; ``"max 100000"``: none), else v1's
    ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us`` (a quota of -1: none)."""
    candidates: list[tuple[Path, ...]] = []
    if "" in own:
        for base in (cgroup_root / own[""].lstrip("/"), cgroup_root):
            candidates.append((base / "cpu.max",))
    if "cpu" in own:
        for base in (cgroup_root / "cpu" / own["cpu"].lstrip("/"), cgroup_root / "cpu"):
            candidates.append((base / "cpu.cfs_quota_us", base / "cpu.cfs_period_us"))
    for files in candidates:
        try:
            fields = " ".join(f.read_text().strip() for f in files).split()
        except OSError:
            continue
        if len(fields) != 2 or fields[0] == "max":
            return None
        try:
            quota, period = int(fields[0]), int(fields[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None
