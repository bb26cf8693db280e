"""OpenAI Realtime: ``WS /v1/realtime?model=``, on the same conversation engine as the
ElevenLabs agents, so the ``openai`` SDK's ``client.realtime.connect()`` works by base URL.

Client events: ``session.update``, ``input_audio_buffer.append`` / ``.commit`` / ``.clear``,
``conversation.item.create`` (a user text message, a system message, a
``function_call_output``), ``conversation.item.truncate``, ``response.create``,
``response.cancel``. Server events: ``session.created``/``updated``,
``input_audio_buffer.speech_started``/``speech_stopped``/``committed``/``cleared``,
``conversation.item.added``/``done``, ``conversation.item.input_audio_transcription.delta``/
``completed`` (with input transcription on), ``conversation.item.truncated``,
``response.created``, ``response.output_item.added``/``done``, ``response.content_part.added``/
``done``, ``response.output_audio.delta``/``done``, ``response.output_audio_transcript.delta``/
``done`` (``response.output_text.*`` without audio), ``response.function_call_arguments.done``,
``response.done`` and ``error``. Audio is base64 pcm16 at 24 kHz unless the session says
otherwise.

Retention: a realtime session is not kept (OpenAI keeps no conversation of it for the customer),
as ``store=false`` would ask; under the workspace's ZDR it is zero retention, and its LLM must
declare zero retention for streaming. Only usage records remain either way. A client event that
cannot be read gets an ``error`` event and the session goes on; a failing LLM fails that
response (``response.done`` with status ``failed``), not the session.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api.deps import authenticate_by_key, meter_of, services_of
from sottovoce.api.openai.realtime_session import SessionState, initial, session_body, update
from sottovoce.api.sockets import SocketIO, close_code
from sottovoce.errors import (
    InactivityTimeout,
    InvalidJson,
    InvalidRequest,
    MessageTooLarge,
    SottovoceError,
    UnexpectedBinaryFrame,
)
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
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

router = APIRouter(tags=["OpenAI: realtime"])
FATAL = (MessageTooLarge, InactivityTimeout)
"""Errors that end the session (the others are reported and the session goes on)."""


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


class _Session:
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

    # Events in -------------------------------------------------------------------------

    async def handle(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        conv = self.conv
        if kind == "input_audio_buffer.append":
            encoded = message.get("audio")
            try:
                audio = base64.b64decode(encoded if isinstance(encoded, str) else "", validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRequest("audio is not valid base64.", fields=("audio",)) from None
            await conv.audio(Sensitive(audio))
        elif kind == "session.update":
            session = message.get("session")
            if not isinstance(session, Mapping):
                raise InvalidRequest("session must be an object.", fields=("session",))
            limit = self.ctx.settings.llm.max_prompt_chars
            self.state = update(self.state, session, limit)
            await conv.reconfigure(self.state.spec)
            await self.send(
                "session.updated", session=session_body(self.state, self.id, self.model)
            )
        elif kind == "input_audio_buffer.commit":
            await conv.commit()
        elif kind == "input_audio_buffer.clear":
            await conv.clear()
            await self.send("input_audio_buffer.cleared")
        elif kind == "conversation.item.create":
            await self._create_item(message.get("item"))
        elif kind == "conversation.item.truncate":
            item_id, end = message.get("item_id"), message.get("audio_end_ms")
            if not isinstance(item_id, str) or not isinstance(end, int) or end < 0:
                raise InvalidRequest("item_id and audio_end_ms are required.", fields=("item_id",))
            conv.truncate(item_id, end / 1000)
            await self.send(
                "conversation.item.truncated", item_id=item_id, content_index=0, audio_end_ms=end
            )
        elif kind == "response.create":
            await self._respond(message.get("response"))
        elif kind == "response.cancel":
            await conv.interrupt(tell=False)
        else:
            raise InvalidRequest("Unknown or unsupported event type.", fields=("type",))

    async def _respond(self, response: Any) -> None:
        instructions = _text_of(response, "instructions") if isinstance(response, Mapping) else None
        self.conv.respond(instructions=instructions)

    async def _create_item(self, item: Any) -> None:
        if not isinstance(item, Mapping):
            raise InvalidRequest("item must be an object.", fields=("item",))
        if item.get("type") == "function_call_output":
            call_id, output = item.get("call_id"), item.get("output")
            if not isinstance(call_id, str) or not isinstance(output, str):
                raise InvalidRequest("call_id and output are required.", fields=("call_id",))
            self.conv.tool_output(call_id, self._calls.get(call_id, "tool"), Sensitive(output))
            added = {"id": item.get("id") or f"item_{uuid.uuid4().hex[:20]}", **item}
            await self._item_added({**added, "object": "realtime.item", "status": "completed"})
            return
        if item.get("type", "message") != "message" or item.get("role") not in ("user", "system"):
            raise InvalidRequest("Only user and system messages can be added.", fields=("item",))
        content = item.get("content")
        parts = content if isinstance(content, list) else []
        text = "".join(
            str(p.get("text", "")) for p in parts if isinstance(p, Mapping) and "text" in p
        )
        if not text or len(text) > 20_000:
            raise InvalidRequest("A message needs text content.", fields=("item.content",))
        if item["role"] == "system":
            self.conv.context_update(Sensitive(text))
            return
        await self.conv.user_text(Sensitive(text), respond=False)

    async def _read(self) -> None:
        idle = self.ctx.settings.agents.socket_idle_seconds
        while not self.io.gone:
            event_id: str | None = None
            try:
                message = await self.io.receive_json(idle)
                event_id = (
                    message.get("event_id") if isinstance(message.get("event_id"), str) else None
                )
                await self.handle(message)
            except WebSocketDisconnect:
                self.conv.end("client_closed")
                return
            except FATAL as exc:
                self.conv.end("error", exc)
                await self.io.send_json(error_event(exc, event_id))
                return
            except (InvalidJson, UnexpectedBinaryFrame, InvalidRequest) as exc:
                self.ctx.usage.error_code = exc.code
                await self.io.send_json(error_event(exc, event_id))

    async def serve(self) -> None:
        self.conv = conv = Conversation(self.ctx, self.state.spec, self.emit, store=False)
        await self.send("session.created", session=session_body(self.state, self.id, self.model))
        async with conv.running(), anyio.create_task_group() as tasks:
            tasks.start_soon(self._read)
            await conv.ended.wait()
            tasks.cancel_scope.cancel()
        code = close_code(conv.error) if conv.error is not None else 1000
        await self.io.close(code, conv.error.code if conv.error else conv.end_reason)


def _text_of(value: Mapping[str, Any], field: str) -> str | None:
    text = value.get(field)
    return text if isinstance(text, str) and text else None


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings.agents
    io = SocketIO(websocket, settings.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx = await authenticate_by_key(websocket, Product.AGENT)
        model = websocket.query_params.get("model") or "gpt-realtime"
        session = _Session(io, ctx, model)
        await session.serve()
    except WebSocketDisconnect:
        meter.cancelled = True
    except SottovoceError as exc:
        meter.record_error(exc.code, exc.status)
        await io.send_json(error_event(exc))
        await io.close(close_code(exc), exc.code)
