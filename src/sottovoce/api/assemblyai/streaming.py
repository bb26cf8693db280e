"""AssemblyAI streaming (Universal-Streaming v3): ``WS /v3/ws``, as the ``assemblyai`` SDK's
``StreamingClient`` drives it (``api_host="ws://host:port"``).

Query: ``sample_rate`` (required), ``encoding`` (``pcm_s16le`` or ``pcm_mulaw``),
``speech_model`` (as for files), ``format_turns``, ``max_turn_silence`` (ms of silence that
end a turn, default 1280), ``inactivity_timeout`` (s) and ``enable_logging=false`` (zero
retention for the session); AssemblyAI's other tuning parameters are accepted. The key comes as
a bare ``Authorization`` header or ``?token=``.

The server opens with ``Begin``, sends ``Turn`` messages (``end_of_turn: false`` while the
speaker talks, then one with ``end_of_turn: true``) and ends with ``Termination``. The client
sends audio as binary frames and ``ForceEndpoint`` (end the turn now), ``KeepAlive``,
``UpdateConfiguration`` (accepted) and ``Terminate`` (the last turn, ``Termination``, a close).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket

from sottovoce.api import params
from sottovoce.api.assemblyai.aliases import stt_model
from sottovoce.api.assemblyai.errors import socket_error
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.sockets import SocketIO, parse, transcribe_live
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import StreamOptions, Transcript
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Committed, Event, Failed, Partial
from sottovoce.services.stt_live import LiveAsk, LiveSession

router = APIRouter(tags=["AssemblyAI: streaming"])
ENCODINGS = {"pcm_s16le": PcmEncoding.S16LE, "pcm_mulaw": PcmEncoding.MULAW}
DEFAULT_MAX_TURN_SILENCE_MS = 1280


def session_ask(query: Mapping[str, str]) -> LiveAsk:
    encoding = ENCODINGS.get(query.get("encoding") or "pcm_s16le")
    if encoding is None:
        raise InvalidRequest("encoding must be pcm_s16le or pcm_mulaw.", fields=["encoding"])
    rate = params.number(query.get("sample_rate"), "sample_rate", 8000, 48000)
    if rate is None:
        raise InvalidRequest("sample_rate is required.", fields=["sample_rate"])
    silence = params.number(query.get("max_turn_silence"), "max_turn_silence", 100, 60_000)
    params.flag(query.get("format_turns"), "format_turns")
    return LiveAsk(
        model=stt_model(query.get("speech_model")),
        sample_rate=int(rate),
        encoding=encoding,
        options=StreamOptions(
            commit_on_silence=True,
            silence_seconds=(silence or DEFAULT_MAX_TURN_SILENCE_MS) / 1000,
            word_timestamps=True,
        ),
        flags=RequestFlags(
            enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
        ),
        settings={"mode": "realtime", "encoding": encoding.value},
    )


class _Socket:
    def __init__(self, io: SocketIO, session: LiveSession, query: Mapping[str, str]) -> None:
        self.io = io
        self.session = session
        self.formatted = params.flag(query.get("format_turns"), "format_turns") or False
        self.turn = 0
        self.started = time.monotonic()

    def _turn(self, transcript: Transcript, *, end: bool) -> dict[str, Any]:
        return {
            "type": "Turn",
            "turn_order": self.turn,
            "turn_is_formatted": end and self.formatted,
            "end_of_turn": end,
            "transcript": transcript.text,
            "end_of_turn_confidence": 1.0 if end else 0.0,
            "words": [
                {
                    "start": round(w.start * 1000),
                    "end": round(w.end * 1000),
                    "text": w.text.strip(),
                    "confidence": round(w.probability if w.probability is not None else 1.0, 4),
                    "word_is_final": end,
                }
                for w in transcript.words
            ],
        }

    async def send(self, events: list[Event], *, forced: bool = False) -> None:
        """Turns for the events; ``forced``: a ForceEndpoint is answered with an end of turn
        even when the turn had nothing in it (so the client knows it was done)."""
        for event in events:
            if isinstance(event, Failed):
                await self.io.fail(
                    socket_error(event.error, self.session.ctx.request_id), event.error
                )
                return
            if isinstance(event, Partial | Committed):
                transcript = event.transcript.reveal()
                end = isinstance(event, Committed)
                if not transcript.text and not (end and forced):
                    continue
                await self.io.send_json(self._turn(transcript, end=end))
                self.turn += int(end)

    async def terminate(self) -> None:
        await self.send(await self.session.end_input())
        await self.io.send_json(
            {
                "type": "Termination",
                "audio_duration_seconds": round(self.session.audio_seconds),
                "session_duration_seconds": round(time.monotonic() - self.started),
            }
        )
        await self.io.close(1000)

    async def serve(self, idle_seconds: float) -> None:
        while not self.io.gone:
            message = await self.io.receive(idle_seconds)
            if isinstance(message, bytes):
                await self.send(await self.session.feed(Sensitive(message)))
                if self.session.ended:
                    await self.io.close(1008)
                continue
            kind = parse(message, self.io.max_bytes).get("type")
            if kind == "Terminate":
                await self.terminate()
                return
            if kind == "ForceEndpoint":
                await self.send(await self.session.commit(), forced=True)
            elif kind == "KeepAlive":
                await self.session.keep_alive()
            elif kind != "UpdateConfiguration":
                raise InvalidRequest("Unknown message type.", fields=["type"])


@router.websocket("/v3/ws")
async def streaming(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings
    io = SocketIO(websocket, settings.tts.max_socket_message_bytes)
    meter = meter_of(websocket)
    query = websocket.query_params
    try:
        ctx, _ = await authenticate_websocket(websocket, Product.STT, first_message_timeout=0.1)
        session = LiveSession(ctx, session_ask(query))
        idle = params.number(query.get("inactivity_timeout"), "inactivity_timeout", 5, 3600)
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(socket_error(exc, meter.request_id), exc)
        return

    async def serve() -> None:
        expires = int(time.time() + settings.stt.realtime_max_session_seconds)
        await io.send_json(
            {"type": "Begin", "id": str(uuid.UUID(session.session_id)), "expires_at": expires}
        )
        await _Socket(io, session, query).serve(idle or settings.tts.socket_idle_seconds)

    await transcribe_live(io, session, serve, socket_error)
