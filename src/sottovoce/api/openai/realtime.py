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
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api.deps import authenticate_by_key, meter_of, services_of
from sottovoce.api.openai.realtime_events import ServerEvents, error_event
from sottovoce.api.openai.realtime_session import session_body, update
from sottovoce.api.sockets import SocketIO, close_code
from sottovoce.errors import (
    InactivityTimeout,
    InvalidJson,
    InvalidRequest,
    MessageTooLarge,
    ServerDraining,
    SessionRevoked,
    SottovoceError,
    UnexpectedBinaryFrame,
)
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent import Conversation

router = APIRouter(tags=["OpenAI: realtime"])
FATAL = (MessageTooLarge, InactivityTimeout, SessionRevoked, ServerDraining)
"""Errors that end the session (the others are reported and the session goes on)."""


class _Session(ServerEvents):
    """A realtime session's side that listens: client events to the conversation."""

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
                # Told before the conversation ends: its end cancels this reader.
                await self.io.send_json(error_event(exc, event_id))
                self.conv.end("error", exc)
                return
            except (InvalidJson, UnexpectedBinaryFrame, InvalidRequest) as exc:
                self.ctx.usage.error_code = exc.code
                await self.io.send_json(error_event(exc, event_id))
        # A send found the client gone while a message was being handled: the session is over
        # too (else it waited for its maximum duration, holding its place).
        self.conv.end("client_closed")

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
