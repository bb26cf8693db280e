"""OpenAI chat completions: the request as parsed, and the replies as written.

Input models wrap every piece of content in ``Sensitive`` the moment it is parsed. Output is
built as plain dicts only in the response writer (``reveal()`` happens there), so no output
model ever holds content outside a request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sottovoce.api.params import one_of
from sottovoce.engines.base import CHAT_ROLES, ChatMessage, ChatRequest
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive

MAX_STOP_SEQUENCES = 4
ABSURD_MAX_TOKENS = 1_000_000


class TextPart(BaseModel):
    """One part of a message whose content is a list (only text parts are supported)."""

    type: Literal["text"]
    text: Sensitive[str]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = Field(json_schema_extra=one_of(CHAT_ROLES))
    content: Sensitive[str] | list[TextPart]

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        if role not in CHAT_ROLES:
            raise ValueError("role must be one of system, developer, user, assistant")
        return role

    def to_engine(self) -> ChatMessage:
        if isinstance(self.content, Sensitive):
            return ChatMessage(self.role, self.content)
        parts = self.content
        return ChatMessage(self.role, Sensitive("".join(part.text.reveal() for part in parts)))


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    """``POST /v1/chat/completions``. Unknown fields are ignored, as OpenAI's SDK adds new ones."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[MessageIn] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1, le=ABSURD_MAX_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=ABSURD_MAX_TOKENS)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    store: bool | None = None
    # ``user`` and ``metadata`` identify the end user: accepted, never forwarded or kept.

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return stop

    @property
    def mode(self) -> Mode:
        return Mode.STREAMING if self.stream else Mode.SYNC

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    @property
    def settings(self) -> dict[str, Any]:
        """The sampling settings kept with a stored completion (no content)."""
        kept = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_completion_tokens or self.max_tokens,
            "seed": self.seed,
            "stream": self.stream,
        }
        return {k: v for k, v in kept.items() if v is not None}

    def to_engine(self) -> ChatRequest:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return ChatRequest(
            messages=tuple(m.to_engine() for m in self.messages),
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(stops),
            seed=self.seed,
            mode=self.mode,
        )


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_body(
    completion_id: str,
    created: int,
    model: str,
    text: str,
    finish_reason: str,
    token_usage: dict[str, int],
) -> dict[str, Any]:
    """A ``chat.completion`` object. Holds content: build it only to write or to store it."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": token_usage,
        "system_fingerprint": None,
    }


def chunk_body(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def usage_chunk_body(
    completion_id: str, created: int, model: str, token_usage: dict[str, int]
) -> dict[str, Any]:
    """The last chunk when ``stream_options.include_usage``: no choices, only usage."""
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": token_usage,
    }
