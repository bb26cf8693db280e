"""The typed events of a live conversation, which each agent surface writes in its own shape.

Content stays in ``Sensitive`` until the surface's writer reveals it. Ids are ours: a user
turn's ``item_id``, a reply's ``response_id`` and its ``item_id`` (OpenAI Realtime needs them;
ElevenLabs numbers its messages itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import CharTimes


@dataclass(frozen=True)
class SpeechStarted:
    """The user started speaking (``at``: seconds of their audio since the session began)."""

    item_id: str
    at: float


@dataclass(frozen=True)
class SpeechStopped:
    item_id: str
    at: float


@dataclass(frozen=True)
class VadScore:
    """The voice-activity detector's latest score, 0 to 1."""

    score: float


@dataclass(frozen=True)
class UserPartial:
    """A provisional transcript of what the user is saying (a later one replaces it)."""

    item_id: str
    text: Sensitive[str]


@dataclass(frozen=True)
class UserTurn:
    """The user's turn, final: what they said (``spoken``) or typed."""

    item_id: str
    text: Sensitive[str]
    spoken: bool


@dataclass(frozen=True)
class ReplyStarted:
    response_id: str
    item_id: str


@dataclass(frozen=True)
class ReplyText:
    """A piece of the agent's reply, as the LLM writes it (what will be spoken)."""

    response_id: str
    item_id: str
    text: Sensitive[str]


@dataclass(frozen=True)
class ReplyAudio:
    """Audio of the reply in the session's output format, and the characters it speaks."""

    response_id: str
    item_id: str
    data: Sensitive[bytes]
    alignment: Sensitive[CharTimes] | None
    start: float
    """Where this audio starts within the reply's audio, in seconds."""


@dataclass(frozen=True)
class ToolCall:
    """The agent asks the client to run a tool (``expects_response``: and waits for it)."""

    response_id: str
    call_id: str
    name: str
    arguments: Sensitive[Mapping[str, Any]]
    expects_response: bool


@dataclass(frozen=True)
class ReplyDone:
    """The reply is over: ``completed``, ``cancelled`` (interrupted) or ``failed``.

    ``text`` is the whole reply as written; ``spoken`` what the user heard of it (the same,
    unless it was interrupted)."""

    response_id: str
    item_id: str
    status: str
    text: Sensitive[str]
    spoken: Sensitive[str]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error_code: str | None = None


@dataclass(frozen=True)
class Interrupted:
    """The user cut the agent off: the client should stop playing its audio now."""

    response_id: str
    item_id: str
    played_s: float
    """How much of the reply's audio the user is estimated to have heard."""
    text: Sensitive[str]
    """What the agent wrote (so far)."""
    spoken: Sensitive[str]
    """What of it the user heard: all the conversation keeps."""
    after_done: bool = False
    """The reply had been written and sent whole (its ``ReplyDone`` said completed); only its
    playback was cut."""


@dataclass(frozen=True)
class Ended:
    """The conversation is over (``reason``: end_call, max_duration, silence_timeout,
    client_closed, error)."""

    reason: str
    error_code: str | None = None


AgentEvent = (
    SpeechStarted
    | SpeechStopped
    | VadScore
    | UserPartial
    | UserTurn
    | ReplyStarted
    | ReplyText
    | ReplyAudio
    | ToolCall
    | ReplyDone
    | Interrupted
    | Ended
)
