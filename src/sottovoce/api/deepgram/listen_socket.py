"""Deepgram live transcription: ``WS /v1/listen``, as the ``deepgram-sdk``'s
``listen.v1.connect()`` drives it.

Query: ``model`` (as for ``POST /v1/listen``), ``encoding`` (``linear16`` by default,
``linear32``, ``mulaw``, ``alaw``), ``sample_rate`` (16000 by default), ``channels`` (mixed
down), ``language``, ``interim_results`` (partials as ``is_final: false`` results),
``endpointing`` (milliseconds of silence that end an utterance, at least 100; ``false``: only
``Finalize`` ends one; default 500), ``utterance_end_ms`` (an ``UtteranceEnd`` after each
utterance), ``vad_events`` (a ``SpeechStarted`` before each), ``mip_opt_out`` and
``enable_logging=false`` (zero retention for the session).

The client sends audio as binary frames and the text messages ``KeepAlive``, ``Finalize``
(finish the current utterance now: its result comes with ``from_finalize: true``) and
``CloseStream`` (the last results, then ``Metadata``, then a close). An utterance's final
result has ``is_final`` and ``speech_final`` true. Errors are ``{"type": "Error", "err_code",
"err_msg", "request_id"}`` and a close; a socket silent for ``tts.socket_idle_seconds`` is
closed the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket

from sottovoce.api import params
from sottovoce.api.deepgram.aliases import stt_model
from sottovoce.api.deepgram.listen import alternative, flags_of, raw_format
from sottovoce.api.deepgram.speak_socket import error_message
from sottovoce.api.deps import authenticate_websocket, meter_of, services_of
from sottovoce.api.sockets import SocketIO, parse, transcribe_live
from sottovoce.engines.base import StreamOptions, Transcript
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Committed, Event, Failed, Partial
from sottovoce.services.stt_live import LiveAsk, LiveSession

router = APIRouter(tags=["Deepgram: speech to text (WebSocket)"])
DEFAULT_ENDPOINTING_MS = 500
MIN_ENDPOINTING_MS = 100


def session_ask(query: Mapping[str, str]) -> LiveAsk:
    raw = raw_format(query, required=True)
    assert raw is not None
    encoding, rate = raw
    channels = params.number(query.get("channels"), "channels", 1, 8)
    if channels not in (None, 1):
        raise InvalidRequest("This server transcribes one channel per socket.", fields=["channels"])
    endpointing = query.get("endpointing")
    on_silence = endpointing not in ("false", "False")
    silence_ms = DEFAULT_ENDPOINTING_MS
    if on_silence and endpointing:
        silence_ms = int(params.number(endpointing, "endpointing", 0, 60_000) or 0)
    params.flag(query.get("interim_results"), "interim_results")
    params.flag(query.get("vad_events"), "vad_events")
    params.number(query.get("utterance_end_ms"), "utterance_end_ms", 0, 60_000)
    model = query.get("model") or "nova-3"
    return LiveAsk(
        model=stt_model(model),
        sample_rate=rate,
        encoding=encoding,
        options=StreamOptions(
            language=query.get("language") or None,
            commit_on_silence=on_silence,
            silence_seconds=max(silence_ms, MIN_ENDPOINTING_MS) / 1000,
            word_timestamps=True,
        ),
        flags=flags_of(query),
        settings={"mode": "realtime", "model": model, "encoding": encoding.value},
    )


class _Socket:
    def __init__(self, io: SocketIO, session: LiveSession, query: Mapping[str, str]) -> None:
        self.io = io
        self.session = session
        self.request_id = session.ctx.request_id
        self.interim = params.flag(query.get("interim_results"), "interim_results") or False
        self.vad_events = params.flag(query.get("vad_events"), "vad_events") or False
        self.utterance_end = query.get("utterance_end_ms") not in (None, "")
        self.model = query.get("model") or "nova-3"
        self.speaking = False

    def _results(
        self, transcript: Transcript, *, final: bool, speech_final: bool, from_finalize: bool
    ) -> dict[str, Any]:
        segments = transcript.segments
        start = segments[0].start if segments else 0.0
        end = segments[-1].end if segments else start
        message: dict[str, Any] = {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(max(end - start, 0.0), 3),
            "start": round(start, 3),
            "is_final": final,
            "speech_final": speech_final,
            "channel": {"alternatives": [alternative(transcript)]},
            "metadata": {
                "request_id": self.request_id,
                "model_info": {"name": self.model, "version": "sottovoce", "arch": "sottovoce"},
                "model_uuid": self.session.transcriber.info.model_id,
            },
        }
        if from_finalize:
            message["from_finalize"] = True
        return message

    async def send(self, events: list[Event], *, finalize: bool = False) -> None:
        for event in events:
            if isinstance(event, Failed):
                await self.io.fail(error_message(event.error, self.request_id), event.error)
                return
            if not isinstance(event, Partial | Committed):
                continue
            transcript = event.transcript.reveal()
            committed = isinstance(event, Committed)
            if not transcript.text and not (committed and finalize):
                continue
            if transcript.text and not self.speaking:
                self.speaking = True
                if self.vad_events:
                    start = transcript.segments[0].start if transcript.segments else 0.0
                    await self.io.send_json(
                        {"type": "SpeechStarted", "channel": [0], "timestamp": start}
                    )
            if not committed:
                if self.interim:
                    await self.io.send_json(
                        self._results(
                            transcript, final=False, speech_final=False, from_finalize=False
                        )
                    )
                continue
            self.speaking = False
            await self.io.send_json(
                self._results(
                    transcript, final=True, speech_final=not finalize, from_finalize=finalize
                )
            )
            if self.utterance_end and transcript.words:
                last = transcript.words[-1].end
                await self.io.send_json(
                    {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": last}
                )

    async def close_stream(self) -> None:
        await self.send(await self.session.end_input())
        await self.io.send_json(
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.request_id,
                "sha256": "",
                "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "duration": round(self.session.audio_seconds, 3),
                "channels": 1,
            }
        )
        await self.io.close(1000)

    async def serve(self, idle_seconds: float) -> None:
        while not self.io.gone:
            message = await self.io.receive(idle_seconds)
            if isinstance(message, bytes):
                if not message:  # an empty frame: Deepgram's older way to close the stream
                    await self.close_stream()
                    return
                await self.send(await self.session.feed(Sensitive(message)))
                if self.session.ended:
                    await self.io.close(1008)
                continue
            kind = parse(message, self.io.max_bytes).get("type")
            if kind == "KeepAlive":
                await self.session.keep_alive()
            elif kind == "Finalize":
                await self.send(await self.session.commit(), finalize=True)
            elif kind == "CloseStream":
                await self.close_stream()
                return
            else:
                raise InvalidRequest("Unknown message type.", fields=("type",))


@router.websocket("/v1/listen")
async def listen_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings
    io = SocketIO(websocket, settings.tts.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx, _ = await authenticate_websocket(websocket, Product.STT, first_message_timeout=0.1)
        session = LiveSession(ctx, session_ask(websocket.query_params))
    except SottovoceError as exc:
        meter.error_code = exc.code
        await io.fail(error_message(exc, meter.request_id), exc)
        return
    socket = _Socket(io, session, websocket.query_params)
    await transcribe_live(
        io, session, lambda: socket.serve(settings.tts.socket_idle_seconds), error_message
    )
