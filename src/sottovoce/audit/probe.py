"""What a surface's audit probes are made of: the probe, the client it drives, the canaries.

Each surface package declares its probes (``api/<vendor>/probes.py``): one per content route or
socket, each sending canaries down every path (success and each failure). A probe gets a
:class:`ProbeClient`; for each path it asks for a fresh marker (``client.marker(probe, path,
...)``), sends it, and records the status. Paths that should reach history when retention is on
say ``retained=True``: the negative control expects them there. Every route of the app is
either covered by a probe or declared content-free by its surface (a test checks this), so a
new endpoint cannot ship without its probe.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sottovoce.audit.markers import AUDIO_MARKER_SAMPLE_RATE, audio_marker_pcm, new_marker

RouteKey = tuple[str, str]
"""(method, path template); method ``WS`` for WebSockets."""

AUDIT_DEAD_UPSTREAM = "audit-unreachable"
"""An upstream provider the audit adds to a server it starts: a closed port, so it fails (a
chat provider, and a speech provider with the models below)."""
AUDIT_UPSTREAM = "audit-upstream"
"""The speech provider a second sottovoce plays for the audit (Deepgram's API): the upstream
paths' probes go through it."""
UPSTREAM_STT = "nova-3"
UPSTREAM_TTS = "aura-2-thalia-en"


@dataclass
class Case:
    """One path of one probe, with the marker it carried."""

    probe: str
    path: str
    marker: str
    audio: bool
    retained_if_allowed: bool
    """With retention on, this path's content is meant to reach history."""
    status: int | None = None
    request_id: str | None = None
    """The server's id for the request (its usage record is awaited before the search)."""


@dataclass
class ProbeClient:
    """What a probe uses to reach the server: HTTP, WebSocket, the key, fresh markers."""

    base_url: str
    api_key: str
    run_name: str
    upstream: bool = False
    """The server has the audit's speech providers (``AUDIT_UPSTREAM``, a second sottovoce,
    and the dead one): the probes also send their markers through them."""
    cases: list[Case] = field(default_factory=list)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=120)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    @property
    def auth(self) -> dict[str, str]:
        return {"xi-api-key": self.api_key}

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def marker(self, probe: str, path: str, *, audio: bool = False, retained: bool = False) -> Case:
        case = Case(probe, path, new_marker(), audio, retained)
        self.cases.append(case)
        return case

    def send(self, case: Case, method: str, url: str, **kwargs: Any) -> None:
        """One request; its status is the case's."""
        kwargs.setdefault("headers", self.auth)
        response = self.http.request(method, url, **kwargs)
        case.status, case.request_id = response.status_code, response.headers.get("request-id")

    def disconnect(self, case: Case, url: str, **kwargs: Any) -> None:
        """Start a streaming response, read its first bytes, and hang up."""
        kwargs.setdefault("headers", self.auth)
        with self.http.stream("POST", url, **kwargs) as response:
            case.status, case.request_id = response.status_code, response.headers.get("request-id")
            for _chunk in response.iter_raw(1024):
                break

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True)
class Probe:
    name: str
    routes: tuple[RouteKey, ...]
    run: Callable[[ProbeClient], None]


def long_text(marker: str) -> str:
    """A text that keeps a stream going for a while, the marker first."""
    return f"{marker}. " + "This sentence keeps the stream going for a while. " * 12


def marked_wav(marker: str, channels: int = 1) -> bytes:
    """One second of a quiet tone per channel (440 Hz, 660 Hz...: channels that differ, so a
    multi-channel file is heard channel by channel), the marker in the INFO comment chunk."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        tone = (
            int(3000 * math.sin(2 * math.pi * 220 * (2 + c) * i / 16000))
            for i in range(16000)
            for c in range(channels)
        )
        wav.writeframes(b"".join(struct.pack("<h", v) for v in tone))
    comment = marker.encode() + b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    data = bytearray(buffer.getvalue() + b"LIST" + struct.pack("<I", len(info)) + info)
    data[4:8] = struct.pack("<I", len(data) - 8)
    return bytes(data)


def corrupt_audio(marker: str) -> bytes:
    """Bytes that no decoder takes for audio, the marker inside."""
    return b"\0not audio " + marker.encode() * 50


def sampled_wav(marker: str) -> bytes:
    """Half a second of noise whose samples *are* the marker (searched in raw-sample form)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_MARKER_SAMPLE_RATE)
        wav.writeframes(audio_marker_pcm(marker))
    return buffer.getvalue()


def stt_file_cases(
    client: ProbeClient, surface: str, url: str, model: tuple[str, str], language_field: str
) -> None:
    """The file-transcription paths of one surface (probe ``stt.files``): the marker rides in
    the audio (its metadata, and as raw samples in a case of its own), the file name and the
    form fields; then corrupt audio, an unknown model and a bad language. With retention on,
    the workspace keeps input audio, so the success paths' markers must reach history."""
    model_field, model_name = model
    fields = {model_field: model_name}
    samples = client.marker("stt.files", f"{surface}.raw_samples", audio=True, retained=True)
    upload = {"file": ("speech.wav", sampled_wav(samples.marker), "audio/wav")}
    client.send(samples, "POST", url, data=fields, files=upload)
    for path in ("success", "corrupt_audio", "unknown_model", "bad_language"):
        case = client.marker("stt.files", f"{surface}.{path}", retained=path == "success")
        audio = marked_wav(case.marker)
        sent = {**fields, "prompt": case.marker}
        if path == "corrupt_audio":
            audio = b"\0not audio " + case.marker.encode() * 50
        elif path == "unknown_model":
            sent[model_field] = case.marker
        elif path == "bad_language":
            sent[language_field] = case.marker
        upload = {"file": (f"{case.marker}.wav", audio, "audio/wav")}
        client.send(case, "POST", url, files=upload, data=sent)
