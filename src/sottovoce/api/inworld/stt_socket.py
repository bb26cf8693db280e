"""Inworld streaming speech-to-text: ``WS /stt/v1/transcribe:streamBidirectional``.

The first message configures the session: ``{"transcribeConfig": {"modelId", "language",
"audioEncoding": "LINEAR16", "sampleRateHertz"}}`` (raw 16-bit PCM only, as Inworld's
streaming takes). Then ``{"audioChunk": {"content": base64}}`` messages, ``{"endTurn": {}}``
(finish the current turn now) and ``{"closeStream": {}}`` (the last result, the usage, then a
close). The server sends ``{"result": {"transcription": {"transcript", "isFinal",
"wordTimestamps"}}}``: interim ones while the speaker talks, a final one when a turn ends (a
pause, or ``endTurn``), and ``{"result": {"usage": {"transcribedAudioMs", "modelId"}}}`` at the
end. Errors are ``{"error": {gRPC status}}`` and a close. The key comes as ``Authorization:
Basic``; ``?enable_logging=false`` asks for zero retention.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from sottovoce.api import params
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.inworld.aliases import stt_model
from sottovoce.api.inworld.errors import status
from sottovoce.api.inworld.stt import TranscribeConfig, language_of, word_timestamps
from sottovoce.api.sockets import SocketIO, parse, transcribe_live
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import StreamOptions
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Committed, Event, Failed, Partial
from sottovoce.services.stt_live import LiveAsk, LiveSession

router = APIRouter(tags=["Inworld: speech to text (WebSocket)"])
PATH = "/stt/v1/transcribe:streamBidirectional"


def error_message(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {"error": status(exc, request_id)}


def session_ask(message: Mapping[str, Any], query: Mapping[str, str]) -> LiveAsk:
    raw = message.get("transcribeConfig")
    if not isinstance(raw, dict):
        raise InvalidRequest("The first message must be a transcribeConfig.", fields=["type"])
    try:
        config = TranscribeConfig.model_validate(raw)
    except ValidationError:
        raise InvalidRequest("The transcribeConfig is not valid.", fields=["type"]) from None
    if (config.audioEncoding or "LINEAR16").upper() not in ("LINEAR16", "PCM"):
        raise InvalidRequest(
            "Streaming takes LINEAR16 audio only.", fields=["transcribeConfig.audioEncoding"]
        )
    return LiveAsk(
        model=stt_model(config.modelId),
        sample_rate=config.sampleRateHertz or 16000,
        encoding=PcmEncoding.S16LE,
        options=StreamOptions(language=language_of(config), word_timestamps=True),
        flags=RequestFlags(
            enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
        ),
        settings={"mode": "realtime", "model": config.modelId},
    )


class _Socket:
    def __init__(self, io: SocketIO, session: LiveSession, model: str | None) -> None:
        self.io = io
        self.session = session
        self.model = model or session.transcriber.info.model_id

    async def send(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Failed):
                request_id = self.session.ctx.request_id
                await self.io.fail(error_message(event.error, request_id), event.error)
                return
            if isinstance(event, Partial | Committed):
                transcript = event.transcript.reveal()
                if transcript.text:
                    transcription = {
                        "transcript": transcript.text,
                        "isFinal": isinstance(event, Committed),
                        "wordTimestamps": word_timestamps(transcript),
                    }
                    await self.io.send_json({"result": {"transcription": transcription}})

    async def close_stream(self) -> None:
        await self.send(await self.session.end_input())
        usage = {
            "transcribedAudioMs": round(self.session.audio_seconds * 1000),
            "modelId": self.model,
        }
        await self.io.send_json({"result": {"usage": usage}})
        await self.io.close(1000)

    async def serve(self, idle_seconds: float) -> None:
        while not self.io.gone:
            message = await self.io.receive_json(idle_seconds)
            if "audioChunk" in message:
                chunk = message["audioChunk"]
                content = chunk.get("content") if isinstance(chunk, dict) else None
                try:
                    audio = base64.b64decode(str(content or ""), validate=True)
                except (binascii.Error, ValueError):
                    raise InvalidRequest(
                        "audioChunk.content is not base64.", fields=["audioChunk.content"]
                    ) from None
                await self.send(await self.session.feed(Sensitive(audio)))
                if self.session.ended:
                    await self.io.close(1008)
            elif "endTurn" in message:
                await self.send(await self.session.commit())
            elif "closeStream" in message:
                await self.close_stream()
                return
            else:
                raise InvalidRequest("Unknown message.", fields=["type"])


@router.websocket(PATH)
async def transcribe_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings
    io = SocketIO(websocket, max(settings.tts.max_socket_message_bytes, 2 * 1024 * 1024))
    meter = meter_of(websocket)
    try:
        ctx, read = await authenticate_websocket(websocket, Product.STT, first_message_timeout=0.1)
        first = (
            parse(read, io.max_bytes)
            if read is not None
            else await io.receive_json(settings.tts.socket_idle_seconds)
        )
        ask = session_ask(first, websocket.query_params)
        session = LiveSession(ctx, ask)
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_message(exc, meter.request_id), exc)
        return
    except WebSocketDisconnect:
        return
    socket = _Socket(io, session, ask.settings.get("model"))
    await transcribe_live(
        io, session, lambda: socket.serve(settings.tts.socket_idle_seconds), error_message
    )
