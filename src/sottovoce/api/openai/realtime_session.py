"""OpenAI Realtime's session object: read into an :class:`~sottovoce.services.agent_spec.
AgentSpec`, and written back as the session the server runs.

Both spellings are read: the GA shape (``audio.input.format``, ``audio.input.turn_detection``,
``audio.input.transcription``, ``audio.output.voice``, ``output_modalities``) and the beta one
(``input_audio_format: "pcm16"``, ``turn_detection``, ``input_audio_transcription``, ``voice``,
``modalities``). Audio is pcm16 at 24 kHz by default, or G.711 (``audio/pcmu``, ``audio/pcma``,
``g711_ulaw``, ``g711_alaw``) at 8 kHz. Function tools become client tools whose result comes
back as a ``function_call_output`` item, followed by the client's ``response.create``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sottovoce.api.openai.aliases import ALIASES
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_spec import AgentSpec, ClientTool

DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant. Answer briefly, in one or two sentences."
REALTIME_MODELS = ("gpt-realtime", "gpt-4o-realtime", "gpt-4o-mini-realtime", "gpt-audio")
"""OpenAI's realtime model names: served by the local default LLM."""
_FORMATS = {
    "audio/pcm": (24000, PcmEncoding.S16LE, Codec.PCM_S16LE),
    "pcm16": (24000, PcmEncoding.S16LE, Codec.PCM_S16LE),
    "audio/pcmu": (8000, PcmEncoding.MULAW, Codec.MULAW),
    "g711_ulaw": (8000, PcmEncoding.MULAW, Codec.MULAW),
    "audio/pcma": (8000, PcmEncoding.ALAW, Codec.ALAW),
    "g711_alaw": (8000, PcmEncoding.ALAW, Codec.ALAW),
}


@dataclass(frozen=True)
class SessionState:
    """What the session says back (``session.created``/``updated``), and the spec it runs."""

    spec: AgentSpec
    input_format: str = "audio/pcm"
    output_format: str = "audio/pcm"
    voice: str = "alloy"
    transcription: Mapping[str, Any] | None = None
    turn_detection: Mapping[str, Any] | None = dataclasses.field(
        default_factory=lambda: {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
            "interrupt_response": True,
        }
    )
    modalities: tuple[str, ...] = ("audio",)
    tools: tuple[Mapping[str, Any], ...] = ()


def llm_of(model: str | None) -> str | None:
    if not model or model.startswith(REALTIME_MODELS):
        return None
    return model


def initial(model: str | None, end_of_turn_silence_s: float) -> SessionState:
    spec = AgentSpec(
        prompt=Sensitive(DEFAULT_INSTRUCTIONS),
        llm=llm_of(model),
        input_rate=24000,
        output=OutputFormat(Codec.PCM_S16LE, 24000, name="pcm_24000"),
        turn_timeout_s=-1,
        max_duration_s=3600,
        end_call_on_error=False,
        end_of_turn_silence_s=end_of_turn_silence_s,
    )
    return SessionState(spec=spec)


def _format(value: Any, field: str) -> str:
    name = value.get("type") if isinstance(value, Mapping) else value
    if name not in _FORMATS:
        raise InvalidRequest(f"{field} is not a supported audio format.", fields=(field,))
    return str(name)


def _section(value: Any, *path: str) -> Mapping[str, Any]:
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"{field} must be a number from {low:g} to {high:g}.", fields=(field,))
    return float(value)


def update(state: SessionState, session: Mapping[str, Any], max_prompt_chars: int) -> SessionState:
    """The state after a ``session.update`` (fields not sent keep their values)."""
    spec = state.spec
    changes: dict[str, Any] = {}
    audio_in, audio_out = _section(session, "audio", "input"), _section(session, "audio", "output")
    input_format, output_format = state.input_format, state.output_format
    if "format" in audio_in or "input_audio_format" in session:
        input_format = _format(audio_in.get("format", session.get("input_audio_format")), "format")
        rate, encoding, _codec = _FORMATS[input_format]
        changes |= {"input_rate": rate, "input_encoding": encoding}
    if "format" in audio_out or "output_audio_format" in session:
        output_format = _format(
            audio_out.get("format", session.get("output_audio_format")), "format"
        )
        rate, _encoding, codec = _FORMATS[output_format]
        changes["output"] = OutputFormat(codec, rate, name=output_format)
    instructions = session.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str) or len(instructions) > max_prompt_chars:
            raise InvalidRequest("instructions must be text.", fields=("instructions",))
        changes["prompt"] = Sensitive(instructions)
    voice = audio_out.get("voice", session.get("voice", state.voice))
    if not isinstance(voice, str | Mapping):
        raise InvalidRequest("voice must be a voice name.", fields=("voice",))
    voice_name = voice if isinstance(voice, str) else str(voice.get("id", ""))
    changes["voice_id"] = ALIASES.voice(voice_name)
    turn = state.turn_detection
    if "turn_detection" in audio_in or "turn_detection" in session:
        raw = audio_in.get("turn_detection", session.get("turn_detection"))
        turn = dict(raw) if isinstance(raw, Mapping) else None
        if turn is not None:
            threshold = _number(turn.get("threshold", 0.5), "threshold", 0.05, 0.95)
            silence = _number(
                turn.get("silence_duration_ms", 500), "silence_duration_ms", 200, 3000
            )
            changes |= {"vad_threshold": threshold, "end_of_turn_silence_s": silence / 1000}
        changes |= {
            "turn_detection": turn is not None,
            "auto_respond": turn is not None and turn.get("create_response", True) is not False,
            "interruptions": turn is not None and turn.get("interrupt_response", True) is not False,
        }
    transcription = state.transcription
    if "transcription" in audio_in or "input_audio_transcription" in session:
        raw = audio_in.get("transcription", session.get("input_audio_transcription"))
        transcription = dict(raw) if isinstance(raw, Mapping) else None
        # Transcription deltas while the caller speaks: only when the client asked for them.
        changes["partials"] = transcription is not None
    modalities = session.get("output_modalities", session.get("modalities"))
    mods = state.modalities
    if modalities is not None:
        if not isinstance(modalities, list) or not set(modalities) <= {"audio", "text"}:
            raise InvalidRequest("output_modalities must be audio or text.", fields=("modalities",))
        mods = tuple(modalities)
        changes["text_only"] = "audio" not in mods
    tools = state.tools
    if "tools" in session:
        raw_tools = session.get("tools") or []
        if not isinstance(raw_tools, list) or len(raw_tools) > 20:
            raise InvalidRequest("tools must be a list of at most 20.", fields=("tools",))
        tools = tuple(
            t for t in raw_tools if isinstance(t, Mapping) and isinstance(t.get("name"), str)
        )
        changes["tools"] = tuple(
            ClientTool(
                name=str(t["name"])[:64],
                description=str(t.get("description") or "")[:2000],
                parameters=_section(t, "parameters"),
                expects_response=False,
            )
            for t in tools
        )
    if "temperature" in session:
        changes["temperature"] = _number(session["temperature"], "temperature", 0, 2)
    limit = session.get("max_output_tokens", session.get("max_response_output_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool):
        changes["max_tokens"] = max(1, min(limit, 4096))
    return SessionState(
        spec=dataclasses.replace(spec, **changes),
        input_format=input_format,
        output_format=output_format,
        voice=voice_name,
        transcription=transcription,
        turn_detection=turn,
        modalities=mods,
        tools=tools,
    )


def session_body(state: SessionState, session_id: str, model: str) -> dict[str, Any]:
    """The session as the GA SDK reads it (``session.created``/``session.updated``)."""
    spec = state.spec
    input_rate = _FORMATS[state.input_format][0]
    output_rate = _FORMATS[state.output_format][0]
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": list(state.modalities),
        "instructions": spec.prompt.reveal(),
        "audio": {
            "input": {
                "format": {"type": state.input_format, "rate": input_rate},
                "transcription": state.transcription,
                "turn_detection": state.turn_detection,
            },
            "output": {
                "format": {"type": state.output_format, "rate": output_rate},
                "voice": state.voice,
                "speed": 1.0,
            },
        },
        "tools": [dict(t) for t in state.tools],
        "tool_choice": "auto",
        "max_output_tokens": spec.max_tokens,
    }
