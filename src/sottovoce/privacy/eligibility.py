"""Which products may run under zero data retention, and what each keeps by default.

From the vendors' tables (``vendor-apis.md``): speech synthesis, transcription, dialogue,
speech-to-speech, agents and operator-hosted LLMs are eligible; voice cloning and voice design
retain their source material by nature and never are.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Product(StrEnum):
    """What a request is for. Also the ``product`` of its usage record."""

    TTS = "tts"
    STT = "stt"
    LLM = "llm"
    DIALOGUE = "dialogue"
    SPEECH_TO_SPEECH = "speech_to_speech"
    AGENT = "agent"
    VOICE_CLONING = "voice_cloning"
    VOICE_DESIGN = "voice_design"
    # Administrative surfaces: they carry no speech content but are metered like the rest.
    WORKSPACE = "workspace"
    HISTORY = "history"
    USAGE = "usage"
    CATALOGUE = "catalogue"


class HistorySource(StrEnum):
    """The ``source`` of a history item, in ElevenLabs' spelling."""

    TTS = "TTS"
    STT = "STT"
    LLM = "LLM"
    DIALOGUE = "TTD"
    SPEECH_TO_SPEECH = "STS"
    AGENT = "ConvAI"
    VOICE_CLONING = "VoiceCloning"
    VOICE_DESIGN = "VoiceDesign"


@dataclass(frozen=True)
class Eligibility:
    zdr_eligible: bool
    """May run with nothing retained."""
    retained_by_default: bool
    """Without any flag and without ZDR, does the content go to history?"""


ELIGIBILITY: dict[Product, Eligibility] = {
    Product.TTS: Eligibility(zdr_eligible=True, retained_by_default=True),
    Product.STT: Eligibility(zdr_eligible=True, retained_by_default=True),
    Product.DIALOGUE: Eligibility(zdr_eligible=True, retained_by_default=True),
    Product.SPEECH_TO_SPEECH: Eligibility(zdr_eligible=True, retained_by_default=True),
    Product.AGENT: Eligibility(zdr_eligible=True, retained_by_default=True),
    # OpenAI's contract: a chat completion is stored only when the client says store=true.
    Product.LLM: Eligibility(zdr_eligible=True, retained_by_default=False),
    Product.VOICE_CLONING: Eligibility(zdr_eligible=False, retained_by_default=True),
    Product.VOICE_DESIGN: Eligibility(zdr_eligible=False, retained_by_default=True),
    Product.WORKSPACE: Eligibility(zdr_eligible=True, retained_by_default=False),
    Product.HISTORY: Eligibility(zdr_eligible=True, retained_by_default=False),
    Product.USAGE: Eligibility(zdr_eligible=True, retained_by_default=False),
    Product.CATALOGUE: Eligibility(zdr_eligible=True, retained_by_default=False),
}
