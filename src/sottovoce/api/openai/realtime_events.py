"""OpenAI Realtime's server events: what the conversation engine says (the caller's speech
started and stopped, what was heard, a reply's audio, transcript, tool calls and end), written
as OpenAI's events with the items and content parts they belong to."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from sottovoce.api.openai.realtime_session import SessionState, initial
from sottovoce.api.sockets import SocketIO
from sottovoce.errors import (
    SottovoceError,
)
from sottovoce.services.agent import Conversation
from sottovoce.services.agent_events import (
    AgentEvent,
    Interrupted,
    ReplyAudio,
    ReplyDone,
    ReplyStarted,
    ReplyText,
    SpeechStarted,
    SpeechStopped,
    ToolCall,
    UserPartial,
    UserTurn,
)
from sottovoce.services.context import RequestContext


def _event_id() -> str:
    return f"event_{uuid.uuid4().hex[:20]}"


def error_event(exc: SottovoceError, client_event_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "event_id": _event_id(),
        "error": {
            "type": "invalid_request_error" if exc.status < 500 else "server_error",
            "code": exc.code,
            "message": exc.message,
            "param": exc.fields[0] if exc.fields else None,
            "event_id": client_event_id,
        },
    }


class ServerEvents:
    """A realtime session's side that speaks: the conversation's events as OpenAI's server
    events, in order, on one socket."""

    def __init__(self, io: SocketIO, ctx: RequestContext, model: str) -> None:
        self.io = io
        self.ctx = ctx
        self.model = model
        self.id = f"sess_{uuid.uuid4().hex[:20]}"
        settings = ctx.settings
        self.state: SessionState = initial(model, settings.agents.end_of_turn_silence_s)
        self.conv: Conversation
        self._cancelled: set[str] = set()
        self._partials: dict[str, str] = {}
        self._last_item: str | None = None
        self._calls: dict[str, str] = {}
        """Function calls asked for: call id -> tool name."""

    async def send(self, kind: str, **fields: Any) -> None:
        await self.io.send_json({"type": kind, "event_id": _event_id(), **fields})

    # Events out ------------------------------------------------------------------------

    def _audio_out(self) -> bool:
        return not self.state.spec.text_only

    async def emit(self, event: AgentEvent) -> None:
        if isinstance(event, ReplyAudio):
            if event.response_id in self._cancelled:
                return
            await self.send(
                "response.output_audio.delta",
                response_id=event.response_id,
                item_id=event.item_id,
                output_index=0,
                content_index=0,
                delta=base64.b64encode(event.data.reveal()).decode(),
            )
        elif isinstance(event, ReplyText):
            kind = "response.output_audio_transcript.delta"
            if not self._audio_out():
                kind = "response.output_text.delta"
            await self.send(
                kind,
                response_id=event.response_id,
                item_id=event.item_id,
                output_index=0,
                content_index=0,
                delta=event.text.reveal(),
            )
        elif isinstance(event, SpeechStarted):
            await self.send(
                "input_audio_buffer.speech_started",
                audio_start_ms=int(event.at * 1000),
                item_id=event.item_id,
            )
        elif isinstance(event, SpeechStopped):
            await self.send(
                "input_audio_buffer.speech_stopped",
                audio_end_ms=int(event.at * 1000),
                item_id=event.item_id,
            )
        elif isinstance(event, UserPartial):
            await self._partial(event)
        elif isinstance(event, UserTurn):
            await self._user_turn(event)
        elif isinstance(event, ReplyStarted):
            await self._reply_started(event)
        elif isinstance(event, ToolCall):
            await self._tool_call(event)
        elif isinstance(event, ReplyDone):
            await self._reply_done(event)
        elif isinstance(event, Interrupted):
            self._cancelled.add(event.response_id)

    async def _partial(self, event: UserPartial) -> None:
        if self.state.transcription is None:
            return
        text, before = event.text.reveal(), self._partials.get(event.item_id, "")
        if text.startswith(before) and len(text) > len(before):
            self._partials[event.item_id] = text
            await self.send(
                "conversation.item.input_audio_transcription.delta",
                item_id=event.item_id,
                content_index=0,
                delta=text[len(before) :],
            )

    async def _item_added(self, item: dict[str, Any]) -> None:
        await self.send("conversation.item.added", previous_item_id=self._last_item, item=item)
        await self.send("conversation.item.done", previous_item_id=self._last_item, item=item)
        self._last_item = item["id"]

    async def _user_turn(self, event: UserTurn) -> None:
        self._partials.pop(event.item_id, None)
        if event.spoken:
            await self.send(
                "input_audio_buffer.committed",
                previous_item_id=self._last_item,
                item_id=event.item_id,
            )
            content = {"type": "input_audio", "transcript": None}
        else:
            content = {"type": "input_text", "text": event.text.reveal()}
        item = {
            "id": event.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [content],
        }
        await self._item_added(item)
        if event.spoken and self.state.transcription is not None:
            await self.send(
                "conversation.item.input_audio_transcription.completed",
                item_id=event.item_id,
                content_index=0,
                transcript=event.text.reveal(),
            )

    def _message_item(self, item_id: str, status: str, transcript: str | None) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "output_audio", "transcript": transcript}
        if not self._audio_out():
            part = {"type": "output_text", "text": transcript}
        return {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [] if transcript is None else [part],
        }

    async def _reply_started(self, event: ReplyStarted) -> None:
        response = {
            "id": event.response_id,
            "object": "realtime.response",
            "status": "in_progress",
            "output": [],
            "output_modalities": list(self.state.modalities),
        }
        await self.send("response.created", response=response)
        item = self._message_item(event.item_id, "in_progress", None)
        await self.send(
            "response.output_item.added", response_id=event.response_id, output_index=0, item=item
        )
        await self.send("conversation.item.added", previous_item_id=self._last_item, item=item)
        self._last_item = event.item_id
        part = {"type": "audio", "transcript": ""} if self._audio_out() else {"type": "text"}
        await self.send(
            "response.content_part.added",
            response_id=event.response_id,
            item_id=event.item_id,
            output_index=0,
            content_index=0,
            part=part,
        )

    async def _tool_call(self, event: ToolCall) -> None:
        arguments = json.dumps(dict(event.arguments.reveal()))
        self._calls[event.call_id] = event.name
        item = {
            "id": f"item_{uuid.uuid4().hex[:20]}",
            "object": "realtime.item",
            "type": "function_call",
            "status": "completed",
            "call_id": event.call_id,
            "name": event.name,
            "arguments": arguments,
        }
        await self.send(
            "response.output_item.added", response_id=event.response_id, output_index=1, item=item
        )
        await self.send(
            "response.function_call_arguments.done",
            response_id=event.response_id,
            item_id=item["id"],
            output_index=1,
            call_id=event.call_id,
            name=event.name,
            arguments=arguments,
        )
        await self.send(
            "response.output_item.done", response_id=event.response_id, output_index=1, item=item
        )
        await self._item_added(item)

    async def _reply_done(self, event: ReplyDone) -> None:
        spoken = event.spoken.reveal()
        ids = {"response_id": event.response_id, "item_id": event.item_id, "output_index": 0}
        if event.status == "completed" and self._audio_out():
            await self.send("response.output_audio.done", **ids, content_index=0)
            await self.send(
                "response.output_audio_transcript.done", **ids, content_index=0, transcript=spoken
            )
        elif event.status == "completed":
            await self.send("response.output_text.done", **ids, content_index=0, text=spoken)
        status = "completed" if event.status == "completed" else "incomplete"
        item = self._message_item(event.item_id, status, spoken)
        if item["content"]:
            await self.send(
                "response.content_part.done", **ids, content_index=0, part=item["content"][0]
            )
        await self.send(
            "response.output_item.done",
            response_id=event.response_id,
            output_index=0,
            item=item,
        )
        details: dict[str, Any] | None = None
        if event.status == "cancelled":
            details = {"type": "cancelled", "reason": "turn_detected"}
        elif event.status == "failed":
            details = {
                "type": "failed",
                "error": {"type": "server_error", "code": event.error_code},
            }
        response = {
            "id": event.response_id,
            "object": "realtime.response",
            "status": event.status,
            "status_details": details,
            "output": [item],
            "output_modalities": list(self.state.modalities),
            "usage": {
                "total_tokens": event.prompt_tokens + event.completion_tokens,
                "input_tokens": event.prompt_tokens,
                "output_tokens": event.completion_tokens,
            },
        }
        await self.send("response.done", response=response)
