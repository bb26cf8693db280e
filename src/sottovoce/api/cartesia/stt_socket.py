"""Cartesia streaming speech-to-text: ``WS /stt/websocket``, as the ``cartesia`` SDK's
``stt`` websocket drives it.

Query: ``model`` (``ink-whisper``: the default STT model), ``language``, ``encoding``
(``pcm_s16le``, ``pcm_s32le``, ``pcm_f16le``, ``pcm_f32le``, ``pcm_mulaw``, ``pcm_alaw``) and
``sample_rate``; ``min_volume`` and ``max_silence_duration_secs`` (the pause that ends an
utterance, default 1.5 s) are read too, ``?enable_logging=false`` asks for zero retention.
The client sends raw audio as binary frames and the text commands ``finalize`` (transcribe what
was said so far; ``flush_done`` follows) and ``done`` or ``close`` (the same, then ``done`` and a
close). The server sends ``{"type": "transcript", "text", "is_final", "words", "duration",
"language", "request_id"}``: provisional ones (``is_final: false``) while the speaker talks, the
final one when an utterance ends. An unknown command or a JSON message is an ``error`` event and
the session goes on.

This module only translates: the session (retention, metering, history) is
:class:`~sottovoce.services.stt_live.LiveSession`, shared with ElevenLabs' realtime socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api import params
from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.cartesia.tts_socket import error_event
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.sockets import GONE, SocketIO
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import StreamOptions
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Committed, Event, Failed, Partial
from sottovoce.services.stt_live import LiveAsk, LiveSession

router = APIRouter(tags=["Cartesia: speech to text (WebSocket)"])
_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


def session_ask(query: Mapping[str, str]) -> LiveAsk:
    try:
        encoding = PcmEncoding(query.get("encoding") or "pcm_s16le")
    except ValueError:
        raise InvalidRequest(
            "encoding must be one of " + ", ".join(e.value for e in PcmEncoding),
            fields=("encoding",),
        ) from None
    rate = params.number(query.get("sample_rate"), "sample_rate", 8000, 48000) or 16000
    if rate not in _RATES:
        raise InvalidRequest(
            "sample_rate must be one of " + ", ".join(map(str, _RATES)), fields=("sample_rate",)
        )
    params.number(query.get("min_volume"), "min_volume", 0, 1)
    silence = params.number(
        query.get("max_silence_duration_secs"), "max_silence_duration_secs", 0.1, 10
    )
    return LiveAsk(
        model=ALIASES.stt_model(query.get("model")),
        sample_rate=int(rate),
        encoding=encoding,
        options=StreamOptions(
            language=query.get("language") or None,
            commit_on_silence=True,
            silence_seconds=1.5 if silence is None else silence,
            word_timestamps=True,
        ),
        flags=RequestFlags(
            enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
        ),
        settings={"mode": "realtime", "encoding": encoding.value},
    )


def _messages(event: Event, request_id: str) -> list[dict[str, Any]]:
    if isinstance(event, Partial | Committed):
        transcript = event.transcript.reveal()
        if not transcript.text:
            return []
        return [
            {
                "type": "transcript",
                "request_id": request_id,
                "text": transcript.text,
                "is_final": isinstance(event, Committed),
                "duration": round(transcript.duration, 3),
                "language": transcript.language,
                "words": [
                    {"word": w.text.strip(), "start": w.start, "end": w.end}
                    for w in transcript.words
                ],
            }
        ]
    if isinstance(event, Failed):
        return [error_event(event.error, request_id, None)]
    return []


@router.websocket("/stt/websocket")
async def stt_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    io = SocketIO(websocket, services_of(websocket).settings.tts.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx, _ = await authenticate_websocket(websocket, Product.STT, first_message_timeout=0.1)
        session = LiveSession(ctx, session_ask(websocket.query_params))
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_event(exc, meter.request_id, None), exc)
        return

    async def send(events: list[Event]) -> None:
        for event in events:
            for message in _messages(event, ctx.request_id):
                await io.send_json(message)

    try:
        while not io.gone:
            message = await io.receive(3600.0)
            if isinstance(message, bytes):
                await send(await session.feed(Sensitive(message)))
                if session.ended:
                    await io.close(1008)
                continue
            command = message.strip()
            if command in ("finalize", "done", "close"):
                await send(await session.commit())
                if command == "finalize":
                    await io.send_json({"type": "flush_done", "request_id": ctx.request_id})
                    continue
                await io.send_json({"type": "done", "request_id": ctx.request_id})
                await io.close(1000)
                break
            error = InvalidRequest("Send audio as binary frames; commands: finalize, done.")
            ctx.usage.error_code = error.code
            await io.send_json(error_event(error, ctx.request_id, None))
    except WebSocketDisconnect:
        pass
    except GONE:
        ctx.usage.cancelled = True
    except SottovoceError as exc:
        ctx.usage.error_code = exc.code
        await io.fail(error_event(exc, ctx.request_id, None), exc)
    finally:
        await session.finish()
