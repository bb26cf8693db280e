"""Who sees content, and what they promise to keep: the retention declaration per mode.

An engine is addressed as ``provider/model`` (``local/piper``). Each provider declares what it
retains per mode (one reply, or a stream); the retention policy reads that declaration before
any content is sent. Local engines retain nothing. This module is data only: the engines
report a :class:`ProviderInfo`, the configuration fills one in for an upstream provider, and
the policy decides with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """How a request reaches a provider: one reply, or a stream."""

    SYNC = "sync"
    STREAMING = "streaming"


class RetentionDeclaration(StrEnum):
    """What a provider says it keeps of the content it is sent, for one mode."""

    NONE = "none"
    """Retains nothing: nothing outlives the request (our local engines)."""
    ZDR_BY_AGREEMENT = "zdr-by-agreement"
    """Retains nothing under a contract the operator holds with the provider."""
    RETAINS = "retains"
    """May keep content: never used for a zero-retention request unless the admin allows it."""

    @property
    def covers_zero_retention(self) -> bool:
        return self is not RetentionDeclaration.RETAINS


@dataclass(frozen=True)
class ProviderInfo:
    """A provider's name and what it retains per mode."""

    name: str
    retention: Mapping[Mode, RetentionDeclaration]
    local: bool = False

    def declaration(self, mode: Mode) -> RetentionDeclaration:
        # A mode the provider declared nothing for is treated as retaining: no promise, no ZDR.
        return self.retention.get(mode, RetentionDeclaration.RETAINS)

    def covers(self, mode: Mode) -> bool:
        return self.declaration(mode).covers_zero_retention


LOCAL_PROVIDER = ProviderInfo(
    name="local",
    retention={Mode.SYNC: RetentionDeclaration.NONE, Mode.STREAMING: RetentionDeclaration.NONE},
    local=True,
)
"""The engines running in this process: nothing leaves it, nothing is kept."""


_NONE = RetentionDeclaration.NONE
_RETAINS = RetentionDeclaration.RETAINS

SPEECH_DEFAULTS: Mapping[str, Mapping[Mode, RetentionDeclaration]] = {
    # AssemblyAI's zero retention covers its streaming API only; an async transcript is kept
    # until it is deleted (sottovoce deletes it once read, but that is not a promise).
    "assemblyai": {Mode.SYNC: _RETAINS, Mode.STREAMING: _NONE},
    # Deepgram keeps no audio by default; sottovoce always sends mip_opt_out=true.
    "deepgram": {Mode.SYNC: _NONE, Mode.STREAMING: _NONE},
    # Groq retains nothing by default.
    "groq": {Mode.SYNC: _NONE, Mode.STREAMING: _NONE},
    # Soniox processes real-time audio in memory.
    "soniox": {Mode.SYNC: _RETAINS, Mode.STREAMING: _NONE},
    # ElevenLabs retains nothing with enable_logging=false, which sottovoce adds itself to
    # every zero-retention request (an account without zero retention mode is refused there).
    "elevenlabs": {Mode.SYNC: _NONE, Mode.STREAMING: _NONE},
    # OpenAI's audio APIs keep abuse-monitoring logs unless the organisation holds a zero
    # retention agreement: the operator declares zdr-by-agreement then.
    "openai": {Mode.SYNC: _RETAINS, Mode.STREAMING: _RETAINS},
    # Cartesia's zero retention is switched on for a whole organisation by contract.
    "cartesia": {Mode.SYNC: _RETAINS, Mode.STREAMING: _RETAINS},
}
"""What each speech vendor's API retains per mode when the operator declares nothing (from the
vendors' retention pages and Inworld's router table). An operator may override any of them."""
