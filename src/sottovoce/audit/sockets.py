"""Probing TTS sockets: a small script of messages per path, with the marker in the text.

A :class:`SocketDialect` says how one vendor's TTS socket is spoken to (where it is, how the
key goes, what a text, an end, a cancel and a malformed message look like, and which message
means the utterance is over). :func:`socket_cases` then sends canaries down every path the
sockets share: success, a malformed message, a binary frame, an oversized message, an unknown
voice, a drop of the TCP connection mid-utterance, and a cancel (or, where the vendor has
none, an utterance left waiting until the socket's inactivity timeout closes it).
:func:`live_stt_cases` does the same for the live transcription sockets that take raw audio.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sottovoce.audit.markers import audio_marker_pcm
from sottovoce.audit.probe import Case, ProbeClient, long_text, marked_wav

Message = dict[str, Any]


@dataclass(frozen=True)
class SocketDialect:
    path: str
    """The socket's path; ``{voice}`` is replaced by the voice id."""
    headers: Callable[[str], dict[str, str]]
    """The key's header(s), from the key."""
    text: Callable[[str], list[Message]]
    """Messages that start an utterance with this text."""
    end: list[Message]
    """Messages that end it (speak the rest, then its final message)."""
    is_final: Callable[[str | bytes], bool]
    """Whether a server message ends the utterance."""
    cancel: list[Message] | None = None
    """Messages that cancel it, if the vendor has a cancel."""
    voice: str = "joe"
    query: dict[str, str] = field(default_factory=dict)


def _json_final(**wanted: object) -> Callable[[str | bytes], bool]:
    def final(message: str | bytes) -> bool:
        if isinstance(message, bytes):
            return False
        data = json.loads(message)
        return isinstance(data, dict) and all(data.get(k) == v for k, v in wanted.items())

    return final


def _url(client: ProbeClient, dialect: SocketDialect, voice: str) -> str:
    path = dialect.path.replace("{voice}", voice)
    query = "&".join(f"{k}={v.replace('{voice}', voice)}" for k, v in dialect.query.items())
    return f"{client.ws_url}{path}" + (f"?{query}" if query else "")


def drop(ws: Any) -> None:
    """Hang up without a close frame, as a crashed client or a lost network would. The socket
    is shut first and closed only once the connection's reader thread has seen the end: closing
    it under the reader made that thread fail with a traceback of its own."""
    with contextlib.suppress(OSError):
        ws.socket.shutdown(socket.SHUT_RDWR)
    reader = getattr(ws, "recv_events_thread", None)
    if reader is not None:
        reader.join(10)
    ws.socket.close()


def _drain(ws: Any, until: Callable[[str | bytes], bool] | None, timeout: float = 120) -> bool:
    """Read until ``until`` says so or the server closes; whether ``until`` was met."""
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            message = ws.recv(timeout=timeout)
            if until is not None and until(message):
                return True
    except (ConnectionClosed, TimeoutError):
        return False


def _refused(message: str | bytes) -> bool:
    """A failure path is settled by the server's first text message (its error) or its close:
    waiting on for more would wait out the socket's idle timeout where the socket goes on."""
    return isinstance(message, str)


def _first_audio(message: str | bytes) -> bool:
    if isinstance(message, bytes):
        return bool(message)
    data = json.loads(message)
    return isinstance(data, dict) and bool(data.get("audio") or data.get("type") == "chunk")


class _Probe:
    """One connection of one case: messages sent with the case's voice filled in."""

    def __init__(self, ws: Any, voice: str) -> None:
        self.ws = ws
        self.voice = voice

    def send(self, messages: list[Message]) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            for message in messages:
                self.ws.send(json.dumps(message).replace("{voice}", self.voice))

    def send_raw(self, data: str | bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            self.ws.send(data)

    def drain(self, until: Callable[[str | bytes], bool] | None, timeout: float = 120) -> bool:
        return _drain(self.ws, until, timeout)

    def drop(self) -> None:
        drop(self.ws)


def socket_cases(client: ProbeClient, probe: str, dialect: SocketDialect) -> None:
    from websockets.sync.client import connect

    def run(case: Case, script: Callable[[_Probe], object], voice: str | None = None) -> None:
        voice = voice or dialect.voice
        url = _url(client, dialect, voice)
        headers = dialect.headers(client.api_key)
        with connect(url, additional_headers=headers, open_timeout=30) as ws:
            case.status = 101
            script(_Probe(ws, voice))

    def script(
        messages: Sequence[Message] = (),
        raw: str | bytes | None = None,
        until: Callable[[str | bytes], bool] = _refused,
    ) -> Callable[[_Probe], None]:
        def play(p: _Probe) -> None:
            if raw is not None:
                p.send_raw(raw)
            p.send(list(messages))
            p.drain(until)

        return play

    ok = client.marker(probe, "success", retained=True)
    run(ok, script(dialect.text(f"Hello {ok.marker}. ") + dialect.end, until=dialect.is_final))
    malformed = client.marker(probe, "malformed_json")
    run(malformed, script(raw='{"text": "' + malformed.marker))
    binary = client.marker(probe, "binary_frame")
    run(binary, script(raw=binary.marker.encode() * 4))
    oversized = client.marker(probe, "oversized")
    run(oversized, script(dialect.text((oversized.marker + " ") * 20_000)))
    unknown = client.marker(probe, "unknown_voice")
    run(unknown, script(dialect.text(f"Hi {unknown.marker}. ")), voice=unknown.marker)

    dropped = client.marker(probe, "drop_mid_utterance")

    def drop(p: _Probe) -> None:
        p.send(dialect.text(long_text(dropped.marker)))
        p.drain(_first_audio)
        p.drop()

    run(dropped, drop)

    if dialect.cancel is None:
        # No cancel in this protocol: the text is left unspoken until the socket times out.
        idle = client.marker(probe, "inactivity_timeout")
        quiet = SocketDialect(**{**dialect.__dict__, "query": {**dialect.query, **IDLE_QUERY}})
        with connect(
            _url(client, quiet, dialect.voice),
            additional_headers=dialect.headers(client.api_key),
            open_timeout=30,
        ) as ws:
            idle.status = 101
            probe_ws = _Probe(ws, dialect.voice)
            probe_ws.send(dialect.text(f"Still {idle.marker} waiting"))
            probe_ws.drain(None)
        return

    cancelled = client.marker(probe, "cancel")

    def cancel(p: _Probe) -> None:
        p.send(dialect.text(long_text(cancelled.marker)))
        p.drain(_first_audio)
        p.send(dialect.cancel or [])

    run(cancelled, cancel)


def live_stt_cases(
    client: ProbeClient,
    probe: str,
    url: str,
    headers: dict[str, str],
    finish: tuple[str, list[Message]],
    more_paths: Sequence[tuple[str, str]] = (),
) -> None:
    """A live transcription socket's paths: audio carrying the marker (as raw samples and in a
    marked WAV) then the vendor's ``finish`` messages (named by the path they make), the same
    audio dropped mid-stream, and an unknown message carrying the marker. ``more_paths`` are
    (path, query) pairs that finish the same way on a URL with ``query`` appended (another
    model, say). Each case reads until the server closes."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    finished, messages = finish
    paths = [(finished, ""), ("abrupt_disconnect", ""), ("bad_message", ""), *more_paths]
    for path, query in paths:
        case = client.marker(probe, path)
        with (
            connect(url + query, additional_headers=headers, open_timeout=30) as ws,
            contextlib.suppress(ConnectionClosed, TimeoutError),
        ):
            case.status = 101
            if path == "bad_message":
                ws.send(json.dumps({"type": case.marker}))
            else:
                ws.send(audio_marker_pcm(case.marker) + marked_wav(case.marker))
                if path == "abrupt_disconnect":
                    drop(ws)
                    continue
                for message in messages:
                    ws.send(json.dumps(message))
            while True:
                ws.recv(timeout=120)


IDLE_QUERY = {"inactivity_timeout": "1"}
ELEVENLABS_SINGLE = SocketDialect(
    path="/v1/text-to-speech/{voice}/stream-input",
    query={"output_format": "pcm_16000"},
    headers=lambda key: {"xi-api-key": key},
    text=lambda t: [{"text": " "}, {"text": t}],
    end=[{"text": ""}],
    is_final=_json_final(isFinal=True),
)
ELEVENLABS_MULTI = SocketDialect(
    path="/v1/text-to-speech/{voice}/multi-stream-input",
    query={"output_format": "pcm_16000"},
    headers=lambda key: {"xi-api-key": key},
    text=lambda t: [{"text": t, "context_id": "probe"}],
    end=[{"context_id": "probe", "flush": True}, {"close_socket": True}],
    is_final=_json_final(isFinal=True),
    cancel=[{"context_id": "probe", "close_context": True}],
)
_CARTESIA_FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
CARTESIA = SocketDialect(
    path="/tts/websocket",
    headers=lambda key: {"Authorization": f"Bearer {key}", "Cartesia-Version": "2026-08-14"},
    text=lambda t: [
        {
            "context_id": "probe",
            "model_id": "sonic-2",
            "voice": {"mode": "id", "id": "{voice}"},
            "output_format": _CARTESIA_FORMAT,
            "transcript": t,
            "continue": True,
            "add_timestamps": True,
        }
    ],
    end=[{"context_id": "probe", "transcript": "", "continue": False}],
    is_final=_json_final(type="done"),
    cancel=[{"context_id": "probe", "cancel": True}],
)
DEEPGRAM = SocketDialect(
    path="/v1/speak",
    query={"model": "aura-2-{voice}-en", "encoding": "linear16", "sample_rate": "16000"},
    voice="thalia",
    headers=lambda key: {"Authorization": f"Token {key}"},
    text=lambda t: [{"type": "Speak", "text": t}],
    end=[{"type": "Flush"}, {"type": "Close"}],
    is_final=_json_final(type="Flushed"),
    cancel=[{"type": "Clear"}],
)
