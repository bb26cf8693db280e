"""ElevenLabs text-to-speech sockets: ``WS /v1/text-to-speech/{voice_id}/stream-input`` and
``/multi-stream-input``.

``stream-input`` carries one utterance: a first message (``text: " "``, ``voice_settings``,
``generation_config.chunk_length_schedule``, optionally ``xi_api_key``), text messages
(``try_trigger_generation``, ``flush``) and the end, ``{"text": ""}``, after which the server
sends ``{"isFinal": true}`` and closes. Audio comes as ``{"audio", "isFinal": null,
"alignment", "normalizedAlignment"}``, each alignment ``{chars, charStartTimesMs,
charDurationsMs}`` in milliseconds from the start of that message's audio (as ElevenLabs sends
them; the text is not normalized, so both alignments are the same).

``multi-stream-input`` carries up to 5 contexts: every message names its ``context_id`` (one
without uses the ``default`` context), ``flush`` speaks what a context has buffered,
``{"text": ""}`` keeps it alive, ``close_context`` stops it (``{"isFinal": true, "contextId"}``
follows) and ``close_socket`` speaks what every context has and closes. Server messages carry
``contextId``.

Query: ``model_id``, ``output_format``, ``enable_logging`` (false: zero retention), and
``inactivity_timeout`` (seconds without a message before the socket is closed, default 20,
at most 180), ``auto_mode`` (no chunk schedule: clauses only); ``sync_alignment``,
``apply_text_normalization``, ``language_code`` and ``enable_ssml_parsing`` are accepted.
The socket's retention is decided once, on connection, from the query; its contexts inherit
it. Errors are a message ``{"message", "error", "code"}`` and a close with that code.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from sottovoce.api import params
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.elevenlabs.tts import VoiceSettings, speech, speech_ask
from sottovoce.api.sockets import SocketIO, close_code, parse, wait_watching
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Event, Failed
from sottovoce.services.tts import Speech
from sottovoce.services.tts_live import BufferPolicy, LiveUtterance, TtsSession

router = APIRouter(tags=["ElevenLabs: text to speech (WebSocket)"])

DEFAULT_SCHEDULE = (120, 160, 250, 290)
"""ElevenLabs' default ``chunk_length_schedule``."""
MAX_CONTEXTS = 5
"""ElevenLabs' limit of contexts on one multi-context socket."""
DEFAULT_CONTEXT = "default"


def error_message(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    """An error as the socket sends it before closing with ``code``."""
    return {
        "message": exc.message,
        "error": exc.code,
        "code": close_code(exc),
        "request_id": request_id,
    }


@dataclass(frozen=True)
class SocketQuery:
    model_id: str | None
    output_format: str | None
    flags: RequestFlags
    inactivity_timeout: float
    auto_mode: bool

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> SocketQuery:
        for name in ("sync_alignment", "enable_ssml_parsing"):
            params.flag(query.get(name), name)
        timeout = params.number(query.get("inactivity_timeout"), "inactivity_timeout", 1, 180)
        return cls(
            model_id=query.get("model_id") or None,
            output_format=query.get("output_format") or None,
            flags=RequestFlags(
                enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
            ),
            inactivity_timeout=20.0 if timeout is None else timeout,
            auto_mode=bool(params.flag(query.get("auto_mode"), "auto_mode")),
        )


def _voice_settings(message: Mapping[str, Any]) -> VoiceSettings | None:
    raw = message.get("voice_settings")
    if raw is None:
        return None
    try:
        return VoiceSettings.model_validate(raw)
    except ValidationError:
        raise InvalidRequest("Invalid voice_settings.", fields=("voice_settings",)) from None


def _schedule(message: Mapping[str, Any], auto_mode: bool) -> tuple[int, ...]:
    config = message.get("generation_config")
    if auto_mode:
        return ()
    if config is None:
        return DEFAULT_SCHEDULE
    schedule = config.get("chunk_length_schedule") if isinstance(config, dict) else None
    if schedule is None:
        return DEFAULT_SCHEDULE
    ok = (
        isinstance(schedule, list)
        and schedule
        and all(
            isinstance(n, int | float) and not isinstance(n, bool) and 50 <= n <= 500
            for n in schedule
        )
    )
    if not ok:
        raise InvalidRequest(
            "chunk_length_schedule must be a list of numbers from 50 to 500.",
            fields=("generation_config.chunk_length_schedule",),
        )
    return tuple(int(n) for n in schedule)


def _alignment(event: Audio) -> dict[str, list[Any]] | None:
    chars = event.alignment.reveal() if event.alignment is not None else ()
    if not chars:
        return None
    return {
        "chars": [c for c, _, _ in chars],
        "charStartTimesMs": [max(0, round((s - event.start) * 1000)) for _, s, _ in chars],
        "charDurationsMs": [max(0, round((e - s) * 1000)) for _, s, e in chars],
    }


class _Socket:
    """One ElevenLabs TTS socket: its messages into the session, its events into messages."""

    def __init__(
        self,
        io: SocketIO,
        ctx: RequestContext,
        template: Speech,
        query: SocketQuery,
        voice_id: str,
        multi: bool,
    ) -> None:
        self.io = io
        self.ctx = ctx
        self.template = template
        self.query = query
        self.voice_id = voice_id
        self.multi = multi
        self.session: TtsSession
        self.done = False

    async def emit(self, key: str, event: Event) -> None:
        if isinstance(event, Audio):
            audio = event.data.reveal()
            aligned = _alignment(event)
            if not audio and aligned is None:
                return
            message: dict[str, Any] = {
                "audio": base64.b64encode(audio).decode(),
                "isFinal": None,
                "normalizedAlignment": aligned,
                "alignment": aligned,
            }
            if self.multi:
                message["contextId"] = key
            await self.io.send_json(message)
        elif isinstance(event, Failed):
            self.ctx.usage.error_code = event.code
            await self.io.fail(error_message(event.error, self.ctx.request_id), event.error)

    async def on_end(self, utterance: LiveUtterance) -> None:
        if self.multi and not self.io.gone and not self.ctx.usage.error_code:
            await self.io.send_json({"isFinal": True, "contextId": utterance.key})

    async def open(self, key: str, message: Mapping[str, Any]) -> LiveUtterance:
        vs = _voice_settings(message)
        schedule = _schedule(message, self.query.auto_mode)
        q = self.query
        ask = speech_ask(self.voice_id, vs, q.model_id, q.output_format, q.flags, Mode.STREAMING)
        return await self.session.open(
            key, ask, BufferPolicy(schedule=schedule), inherit_decision=True
        )

    async def handle(self, message: Mapping[str, Any]) -> None:
        if self.multi and message.get("close_socket") is True:
            self.session.end_all()
            self.done = True
            return
        key = DEFAULT_CONTEXT
        if self.multi:
            raw_key = message.get("context_id", message.get("contextId")) or DEFAULT_CONTEXT
            if not isinstance(raw_key, str) or len(raw_key) > 200:
                raise InvalidRequest("context_id must be a string.", fields=("context_id",))
            key = raw_key
        utterance = self.session.get(key)
        if self.multi and message.get("close_context") is True:
            if utterance is not None:
                utterance.close()
            return
        text = message.get("text")
        if text is not None and not isinstance(text, str):
            raise InvalidRequest("text must be a string.", fields=("text",))
        flush = message.get("flush") is True
        if utterance is None:
            if self.multi and not text and not flush:
                return  # a keep-alive for a context that is not open: nothing to keep
            utterance = await self.open(key, message)
        if text == "" and not self.multi:
            utterance.end()
            self.done = True
        elif text and text.strip():
            utterance.push(Sensitive(text), flush=flush)
        elif flush:
            utterance.flush()

    async def serve(self, first: str | None) -> None:
        settings = services_of(self.io.websocket).settings.tts
        limit = settings.max_socket_message_bytes
        timeout = self.query.inactivity_timeout
        async with anyio.create_task_group() as tasks:
            self.session = session = TtsSession(
                self.ctx,
                tasks,
                self.emit,
                max_contexts=min(MAX_CONTEXTS, settings.max_socket_contexts) if self.multi else 1,
                on_end=self.on_end,
            )
            try:
                if first is not None:
                    await self.handle(parse(first, limit))
                while not self.done and not self.io.gone:
                    await self.handle(await self.io.receive_json(timeout))
                await wait_watching(self.io, session)
                if not self.multi and not self.io.gone and not self.ctx.usage.error_code:
                    await self.io.send_json({"isFinal": True})
                await self.io.close(1000)
            except WebSocketDisconnect:
                session.cancel_all()
            except SottovoceError as exc:
                self.ctx.usage.error_code = exc.code
                session.cancel_all()
                await self.io.fail(error_message(exc, self.ctx.request_id), exc)


async def _serve(websocket: WebSocket, voice_id: str, multi: bool) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings.tts
    io = SocketIO(websocket, settings.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx, first = await authenticate_websocket(websocket, Product.TTS)
        query = SocketQuery.parse(websocket.query_params)
        # The socket's voice, model and format are checked and its retention decided once,
        # here; every context inherits the decision.
        template = speech(
            ctx, voice_id, None, query.model_id, query.output_format, query.flags, Mode.STREAMING
        )
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_message(exc, meter.request_id), exc)
        return
    await _Socket(io, ctx, template, query, voice_id, multi).serve(first)


@router.websocket("/v1/text-to-speech/{voice_id}/stream-input")
async def stream_input(websocket: WebSocket, voice_id: str) -> None:
    await _serve(websocket, voice_id, multi=False)


@router.websocket("/v1/text-to-speech/{voice_id}/multi-stream-input")
async def multi_stream_input(websocket: WebSocket, voice_id: str) -> None:
    await _serve(websocket, voice_id, multi=True)
