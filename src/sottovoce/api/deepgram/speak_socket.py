"""Deepgram's speak socket: ``WS /v1/speak``, as the ``deepgram-sdk``'s ``speak.v1.connect()``
drives it.

The server opens with ``{"type": "Metadata", "request_id", ...}``. The client sends
``{"type": "Speak", "text"}`` (as often as it likes), ``{"type": "Flush"}`` (speak what was sent;
``{"type": "Flushed", "sequence_id"}`` follows its audio), ``{"type": "Clear"}`` (drop what was
sent and stop speaking; ``{"type": "Cleared", "sequence_id"}``) and ``{"type": "Close"}``
(speak what was sent, then close). Audio comes as binary frames of raw ``linear16`` (24 kHz
unless ``sample_rate`` says otherwise), ``mulaw`` or ``alaw``; the first clause is spoken while
later text is still arriving, without waiting for the flush.

Each turn, from its first ``Speak`` to its ``Flush``, is one utterance: one usage record, and
(without zero retention) one history item; turns are spoken one after another. Retention is
decided once for the socket, from its query. An error is ``{"type": "Error", "err_code",
"err_msg", "request_id"}`` and a close; a socket silent for ``tts.socket_idle_seconds`` is
closed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api.deepgram.aliases import DEFAULT_MODEL
from sottovoce.api.deepgram.errors import error_fields
from sottovoce.api.deepgram.speak import speak_ask
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.sockets import SocketIO, wait_watching
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Event, Failed
from sottovoce.services.tts import Speech, SpeechAsk
from sottovoce.services.tts_live import BufferPolicy, LiveUtterance, TtsSession

router = APIRouter(tags=["Deepgram: text to speech (WebSocket)"])


def error_message(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {"type": "Error", **error_fields(exc, request_id)}


class _Socket:
    def __init__(self, io: SocketIO, ctx: RequestContext, ask: SpeechAsk) -> None:
        self.io = io
        self.ctx = ctx
        self.ask = ask
        self.session: TtsSession
        self.current: LiveUtterance | None = None
        self.last: LiveUtterance | None = None
        self.sequence = 0
        self.turns = 0
        self.closing = False

    async def emit(self, key: str, event: Event) -> None:
        if isinstance(event, Audio) and event.data:
            await self.io.send_bytes(event.data.reveal())
        elif isinstance(event, Failed):
            self.ctx.usage.error_code = event.code
            await self.io.fail(error_message(event.error, self.ctx.request_id), event.error)

    async def on_end(self, utterance: LiveUtterance) -> None:
        if utterance.completed:
            await self._flushed()

    async def _flushed(self) -> None:
        await self.io.send_json({"type": "Flushed", "sequence_id": self.sequence})
        self.sequence += 1

    async def handle(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        if kind == "Speak":
            text = message.get("text")
            if not isinstance(text, str):
                raise InvalidRequest("Speak needs a text string.", fields=("text",))
            if self.current is None:
                self.turns += 1
                after = self.last if self.last is not None else None
                self.current = await self.session.open(
                    f"turn-{self.turns}",
                    self.ask,
                    BufferPolicy(),
                    inherit_decision=True,
                    after=after,
                )
                self.last = self.current
            if text.strip():
                self.current.push(Sensitive(text))
        elif kind == "Flush":
            if self.current is None:
                await self._flushed()
            else:
                self.current.end()
                self.current = None
        elif kind == "Clear":
            for utterance in self.session.open_utterances:
                utterance.cancel()
            self.current = None
            await self.io.send_json({"type": "Cleared", "sequence_id": self.sequence})
            self.sequence += 1
        elif kind == "Close":
            if self.current is not None:
                self.current.end()
                self.current = None
            self.closing = True
        else:
            raise InvalidRequest("Unknown message type.", fields=("type",))

    async def serve(self) -> None:
        settings = services_of(self.io.websocket).settings.tts
        async with anyio.create_task_group() as tasks:
            self.session = session = TtsSession(
                self.ctx,
                tasks,
                self.emit,
                max_contexts=settings.max_socket_contexts,
                on_end=self.on_end,
            )
            try:
                while not self.closing and not self.io.gone:
                    await self.handle(await self.io.receive_json(settings.socket_idle_seconds))
                await wait_watching(self.io, session)
                await self.io.close(1000)
            except WebSocketDisconnect:
                session.cancel_all()
            except SottovoceError as exc:
                self.ctx.usage.error_code = exc.code
                session.cancel_all()
                await self.io.fail(error_message(exc, self.ctx.request_id), exc)


@router.websocket("/v1/speak")
async def speak_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings.tts
    io = SocketIO(websocket, settings.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx, _ = await authenticate_websocket(websocket, Product.TTS, first_message_timeout=0.1)
        ask = speak_ask(websocket.query_params, Mode.STREAMING, socket=True)
        Speech(ctx, ask)  # checks the model, voice and format, and decides for the socket
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_message(exc, meter.request_id), exc)
        return
    model = websocket.query_params.get("model") or DEFAULT_MODEL
    await io.send_json(
        {
            "type": "Metadata",
            "request_id": ctx.request_id,
            "model_name": model,
            "model_version": "local",
            "model_uuid": ctx.usage.model_id or "",
        }
    )
    await _Socket(io, ctx, ask).serve()
