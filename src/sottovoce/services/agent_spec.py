"""What one live conversation runs on, vendor-free: the agent's prompt, voice, tools, timers,
formats and privacy, as each surface parsed them (a stored ElevenLabs agent, an OpenAI Realtime
session).

Dynamic variables fill ``{{name}}`` placeholders in the prompt and the first message; the
``system__*`` ones are ours (agent and conversation ids, the time, the call's duration so far).
A placeholder without a value becomes empty text. Variables are content: they live in the
conversation's memory and are never stored as such (a retained transcript holds what was said,
and redaction removes the names it was told).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sottovoce.audio.formats import OutputFormat
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.agents import AgentPrivacy

END_CALL = "end_call"
"""The built-in tool that ends the call (after what the agent says before it is spoken)."""

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,100})\s*\}\}")


@dataclass(frozen=True)
class ClientTool:
    """A tool the client runs: the agent asks for it and (if it expects a response) waits."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """A JSON schema of its arguments (given to the LLM as is)."""
    expects_response: bool = True
    response_timeout_s: float = 20.0


@dataclass(frozen=True)
class AgentSpec:
    prompt: Sensitive[str]
    first_message: Sensitive[str] = field(default_factory=lambda: Sensitive(""))
    language: str = "en"
    llm: str | None = None
    """A chat model id of the registry; ``None``: the local default."""
    temperature: float = 0.0
    """0: greedy decoding (replies repeat exactly for the same conversation)."""
    max_tokens: int = 200
    voice_id: str | None = None
    tts_model: str | None = None
    tools: tuple[ClientTool, ...] = ()
    end_call: bool = False
    """Offer the built-in ``end_call`` tool."""
    turn_timeout_s: float = 7.0
    """After the agent has spoken, silence this long makes it ask again (<= 0: never)."""
    silence_end_call_s: float = -1.0
    """Silence this long ends the call (<= 0: never)."""
    max_duration_s: float = 600.0
    text_only: bool = False
    """Text in and out, no speech synthesis."""
    input_rate: int = 16_000
    input_encoding: PcmEncoding = PcmEncoding.S16LE
    output: OutputFormat | None = None
    """The agent's audio format on the wire (``None`` only with ``text_only``)."""
    end_of_turn_silence_s: float = 0.5
    """A pause this long ends the user's turn."""
    vad_threshold: float = 0.5
    auto_respond: bool = True
    """Answer when the user's turn ends (OpenAI: ``turn_detection.create_response``)."""
    interruptions: bool = True
    """User speech cuts the agent off (barge-in)."""
    end_call_on_error: bool = True
    """A reply that fails (the LLM upstream broke off) ends the call; else the session goes
    on and the next turn tries again."""
    turn_detection: bool = True
    """The server ends the user's turn on a pause (else only on an explicit commit)."""
    partials: bool = False
    """Transcribe the user's turn while they speak too (``UserPartial`` events). Off unless
    the client reads them: a partial's decode can hold back the final one by its length."""
    privacy: AgentPrivacy = field(default_factory=AgentPrivacy)
    agent_id: str | None = None
    dynamic_variables: Sensitive[Mapping[str, str]] = field(default_factory=lambda: Sensitive({}))


def variables(spec: AgentSpec, conversation_id: str, started: float) -> dict[str, str]:
    """The dynamic variables of a conversation: the client's, then ours (``system__*``)."""
    values = {k: str(v) for k, v in spec.dynamic_variables.reveal().items()}
    values.update(
        {
            "system__agent_id": spec.agent_id or "",
            "system__conversation_id": conversation_id,
            "system__time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "system__call_duration_secs": str(int(time.monotonic() - started)),
        }
    )
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    """``{{name}}`` placeholders filled from ``values`` (an unknown one becomes empty)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def name_values(values: Mapping[str, str]) -> list[str]:
    """The values of variables that hold a person's name (``user_name``, ``first_name``...):
    names the agent was told, which redaction removes from a stored transcript."""
    return [v for k, v in values.items() if "name" in k.lower() and not k.startswith("system__")]
