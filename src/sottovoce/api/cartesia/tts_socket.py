"""Cartesia text-to-speech socket: ``WS /tts/websocket``, as the ``cartesia`` SDK's
``tts.websocket_connect()`` and its contexts drive it.

Each generation request names a ``context_id``; several contexts may be open and interleaved on
one socket. A context's first request brings its own ``model_id``, ``voice``, raw
``output_format``, ``add_timestamps`` and ``max_buffer_delay_ms`` (default 3000: text waits at
most that long for a clause to complete; 0 speaks every request at once), so each context takes
its own retention decision. ``continue: true`` keeps the context open for more ``transcript``;
``continue: false`` (the default) ends it: its last audio is followed by ``done``. ``flush: true``
speaks what is buffered and answers ``flush_done`` (with the context's ``flush_id``) after its
audio; ``{"context_id", "cancel": true}`` stops the context at once, and nothing more is sent
for it. Server messages: ``chunk`` (base64 audio, ``step_time`` in ms), ``timestamps`` (word
timestamps, seconds since the context's first audio), ``flush_done``, ``done`` and ``error``.

A context's own error (unknown voice or model, a bad format, too many contexts) is an ``error``
message for that context, and the socket goes on; an error of the socket itself (not JSON, a
binary frame, a message too large, no message within ``tts.socket_idle_seconds``) is an
``error`` message and a close. ``?enable_logging=false`` asks for zero retention.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from sottovoce.api import params
from sottovoce.api.cartesia.errors import error_fields
from sottovoce.api.cartesia.tts import CartesiaBody, speech_ask, word_timestamps
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.sockets import SocketIO, parse
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Done, Event, Failed, Flushed
from sottovoce.services.tts_live import BufferPolicy, LiveUtterance, TtsSession

router = APIRouter(tags=["Cartesia: text to speech (WebSocket)"])
DEFAULT_BUFFER_DELAY_MS = 3000
"""Cartesia's default ``max_buffer_delay_ms``."""


def error_event(
    exc: SottovoceError, request_id: str | None, context_id: str | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "error",
        "done": True,
        "status_code": exc.status,
        **error_fields(exc, request_id),
    }
    if context_id is not None:
        event["context_id"] = context_id
    return event


class _Socket:
    def __init__(self, io: SocketIO, ctx: RequestContext, flags: RequestFlags) -> None:
        self.io = io
        self.ctx = ctx
        self.flags = flags
        self.session: TtsSession
        self._timestamps: dict[str, bool] = {}
        self._last_step: dict[str, float] = {}

    async def emit(self, key: str, event: Event) -> None:
        base = {"context_id": key, "status_code": 206, "done": False}
        if isinstance(event, Audio):
            now = time.perf_counter()
            step = (now - self._last_step.get(key, now)) * 1000
            self._last_step[key] = now
            if event.data:
                data = base64.b64encode(event.data.reveal()).decode()
                chunk = {**base, "type": "chunk", "data": data, "step_time": round(step, 3)}
                await self.io.send_json(chunk)
            if self._timestamps.get(key) and event.alignment is not None:
                await self.io.send_json(word_timestamps(event.alignment.reveal(), key))
        elif isinstance(event, Flushed):
            flushed = {**base, "type": "flush_done", "flush_done": True}
            await self.io.send_json({**flushed, "flush_id": event.flush_id})
        elif isinstance(event, Done):
            await self.io.send_json({**base, "type": "done", "done": True, "status_code": 200})
        elif isinstance(event, Failed):
            await self.io.send_json(error_event(event.error, self.ctx.request_id, key))

    async def open(self, key: str, message: Mapping[str, Any]) -> LiveUtterance | None:
        """A new context from its first request, or ``None`` (its error was sent)."""
        try:
            body = CartesiaBody.model_validate({**message, "transcript": ""})
            delay = params.number(
                _text(message.get("max_buffer_delay_ms")), "max_buffer_delay_ms", 0, 5000
            )
            ask = speech_ask(body, self.flags, Mode.STREAMING, raw_only=True)
            policy = BufferPolicy(
                max_delay_s=(DEFAULT_BUFFER_DELAY_MS if delay is None else delay) / 1000
            )
            utterance = await self.session.open(key, ask, policy, inherit_decision=False)
        except ValidationError as exc:
            fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
            await self._refuse(key, InvalidRequest("Invalid generation request.", fields=fields))
            return None
        except SottovoceError as exc:
            await self._refuse(key, exc)
            return None
        self._timestamps[key] = message.get("add_timestamps") is True
        return utterance

    async def _refuse(self, key: str, exc: SottovoceError) -> None:
        await self.io.send_json(error_event(exc, self.ctx.request_id, key))

    async def handle(self, message: Mapping[str, Any]) -> None:
        key = message.get("context_id")
        if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
            raise InvalidRequest("context_id must be a string.", fields=("context_id",))
        if message.get("cancel") is True:
            utterance = self.session.get(key) if key else None
            if utterance is not None:
                utterance.cancel()
            return
        key = key or uuid.uuid4().hex
        transcript = message.get("transcript", "")
        if not isinstance(transcript, str):
            await self._refuse(
                key, InvalidRequest("transcript must be a string.", fields=["transcript"])
            )
            return
        utterance = self.session.get(key)
        if utterance is None:
            utterance = await self.open(key, message)
            if utterance is None:
                return
        flush = message.get("flush") is True
        try:
            if transcript:
                utterance.push(Sensitive(transcript), flush=flush)
            elif flush:
                utterance.flush()
        except SottovoceError as exc:
            await self._refuse(key, exc)
            return
        if message.get("continue") is not True:
            utterance.end()

    async def serve(self, first: str | None) -> None:
        settings = services_of(self.io.websocket).settings.tts
        limit = settings.max_socket_message_bytes
        async with anyio.create_task_group() as tasks:
            self.session = TtsSession(
                self.ctx, tasks, self.emit, max_contexts=settings.max_socket_contexts
            )
            try:
                if first is not None:
                    await self.handle(parse(first, limit))
                while not self.io.gone:
                    await self.handle(await self.io.receive_json(settings.socket_idle_seconds))
            except WebSocketDisconnect:
                pass
            except SottovoceError as exc:
                self.ctx.usage.error_code = exc.code
                self.session.cancel_all()
                await self.io.fail(error_event(exc, self.ctx.request_id, None), exc)
            finally:
                self.session.cancel_all()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@router.websocket("/tts/websocket")
async def tts_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings.tts
    io = SocketIO(websocket, settings.max_socket_message_bytes)
    meter = meter_of(websocket)
    first: str | None = None
    try:
        ctx, first = await authenticate_websocket(websocket, Product.TTS)
        query = websocket.query_params
        flags = RequestFlags(
            enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
        )
        # The socket's own record says whether it ran under zero retention; each context then
        # decides for itself with its own model.
        ctx.decide(flags)
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_event(exc, meter.request_id, None), exc)
        return
    await _Socket(io, ctx, flags).serve(first)
