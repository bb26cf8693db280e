"""Reaching an upstream speech provider: HTTP and WebSocket calls whose failures say only what
went wrong, never what the provider said.

A :class:`ProviderLink` is one configured provider seen from this process: its key in the
header its API expects, one HTTP connection pool per event loop, and sockets opened on demand.
Every failure becomes a typed error naming the provider and, at most, its HTTP status: a
refused call is ``UpstreamFailed`` (502), a slow one ``UpstreamTimeout`` (504). The body of an
error reply is never read into a message and never logged (it may quote the audio's words).
Nothing that identifies the end user is sent: no client address, no request id, a generic
User-Agent; proxies from the environment are not used.

Also here: the conversions every provider client needs (16 kHz float samples to 16-bit PCM, a
WAV around them) and one transcript built from a provider's words.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from sottovoce.audio.encode import wav_header
from sottovoce.config import SpeechProvider
from sottovoce.engines.base import Segment, Transcript, Word
from sottovoce.errors import InvalidRequest, SottovoceError, UpstreamFailed, UpstreamTimeout
from sottovoce.privacy.providers import Mode, ProviderInfo

USER_AGENT = "sottovoce"
RATE = 16_000
"""The rate sottovoce sends audio at: the engines' own."""
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def provider_info(provider: SpeechProvider) -> ProviderInfo:
    return ProviderInfo(
        name=provider.provider_name,
        retention={mode: provider.declaration(mode) for mode in Mode},
    )


class ProviderLink:
    """One provider: its key, an HTTP pool per event loop, and sockets."""

    def __init__(self, provider: SpeechProvider, headers: Mapping[str, str]) -> None:
        self.provider = provider
        self.name = provider.provider_name
        self.timeout_s = provider.timeout_s
        self._headers = {"User-Agent": USER_AGENT, **headers}
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def key(self) -> str:
        return self.provider.api_key.get_secret_value() if self.provider.api_key else ""

    # Errors ------------------------------------------------------------------------------

    def refused(self, status: int) -> UpstreamFailed:
        return UpstreamFailed(f"The upstream provider {self.name} answered HTTP {status}.")

    def unreachable(self) -> UpstreamFailed:
        return UpstreamFailed(f"The upstream provider {self.name} could not be reached.")

    def malformed(self) -> UpstreamFailed:
        return UpstreamFailed(f"The upstream provider {self.name} sent a reply it should not.")

    def reported(self) -> UpstreamFailed:
        return UpstreamFailed(f"The upstream provider {self.name} reported an error.")

    def dropped(self) -> UpstreamFailed:
        return UpstreamFailed(f"The upstream provider {self.name} ended the stream early.")

    def timed_out(self) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"The upstream provider {self.name} did not answer within {self.timeout_s:g} s."
        )

    @contextlib.asynccontextmanager
    async def calling(self) -> AsyncIterator[None]:
        """Turn transport failures inside into typed errors (our own errors pass through)."""
        try:
            yield
        except SottovoceError:
            raise
        except (httpx.TimeoutException, TimeoutError):
            raise self.timed_out() from None
        except InvalidStatus as exc:
            raise self.refused(exc.response.status_code) from None
        except (httpx.RemoteProtocolError, ConnectionClosed):
            raise self.dropped() from None
        except (httpx.HTTPError, WebSocketException, OSError):
            raise self.unreachable() from None

    # HTTP --------------------------------------------------------------------------------

    def http(self) -> httpx.AsyncClient:
        # One pool per provider and event loop (keeps TLS sessions warm).
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.provider.base_url.rstrip("/"),
                headers=self._headers,
                timeout=httpx.Timeout(self.timeout_s),
                follow_redirects=False,
                trust_env=False,
            )
            self._client_loop = loop
        return self._client

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, its reply read whole; an error status is ``UpstreamFailed``."""
        async with self.calling():
            response = await self.http().request(method, path, **kwargs)
        if response.status_code >= 400:
            raise self.refused(response.status_code)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One call whose reply must be a JSON object."""
        response = await self.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise self.malformed() from None
        if not isinstance(body, dict):
            raise self.malformed()
        return body

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed reply (the error status is checked before the body is read)."""
        async with self.calling(), self.http().stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                raise self.refused(response.status_code)
            yield response

    async def chunks(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[bytes]:
        """A streamed reply's body, piece by piece."""
        async with self.stream(method, path, **kwargs) as response, self.calling():
            async for data in response.aiter_bytes():
                yield data

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # Sockets -----------------------------------------------------------------------------

    def socket_url(self, path: str, query: Mapping[str, object] | None = None) -> str:
        base = self.provider.streaming_url or _ws(self.provider.base_url)
        params = {k: _text(v) for k, v in (query or {}).items() if v is not None}
        return base.rstrip("/") + path + (f"?{urlencode(params)}" if params else "")

    async def receive(self, ws: ClientConnection) -> str | bytes:
        """The socket's next message within ``timeout_s`` (typed errors otherwise)."""
        async with self.calling():
            return await asyncio.wait_for(ws.recv(), self.timeout_s)

    async def connect(
        self, path: str, query: Mapping[str, object] | None = None
    ) -> ClientConnection:
        """An open socket, or the typed error of the handshake."""
        async with self.calling():
            return await connect(
                self.socket_url(path, query),
                additional_headers=self._headers,
                user_agent_header=None,
                proxy=None,
                open_timeout=self.timeout_s,
                max_size=MAX_MESSAGE_BYTES,
            )


def _ws(url: str) -> str:
    return "ws" + url.removeprefix("http")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Audio and transcripts ---------------------------------------------------------------------


def pcm16(samples: bytes) -> bytes:
    """16 kHz float32 samples as 16-bit little-endian PCM (16-bit input comes back exact)."""
    floats = np.frombuffer(samples, dtype="<f4")
    return bytes(np.clip(np.rint(floats * 32768), -32768, 32767).astype("<i2").tobytes())


def wav16(samples: bytes) -> bytes:
    """16 kHz float32 samples as a 16-bit mono WAV file."""
    pcm = pcm16(samples)
    return wav_header(RATE, len(pcm)) + pcm


def seconds(samples: bytes) -> float:
    return len(samples) / 4 / RATE


def transcript_of(
    words: Sequence[Word], text: str, *, language: str, duration: float
) -> Transcript:
    """One segment holding a provider's transcript and its words."""
    text = text.strip()
    if not text and not words:
        return Transcript(segments=(), language=language, language_probability=1.0, duration=0.0)
    start = words[0].start if words else 0.0
    end = words[-1].end if words else duration
    segment = Segment(text=" " + text if text else "", start=start, end=end, words=tuple(words))
    return Transcript(
        segments=(segment,), language=language, language_probability=1.0, duration=duration
    )


def language_code(language: str | None) -> str | None:
    """A language as providers take it (``en``, ``en-US``): refused with a 422 otherwise."""
    if language is None or not language.strip():
        return None
    code = language.strip()
    parts = code.replace("_", "-").split("-")
    if not (2 <= len(parts[0]) <= 3 and parts[0].isalpha() and all(p.isalnum() for p in parts)):
        raise InvalidRequest("The language is not a language code.", fields=["language"])
    return code


def number(value: object, default: float = 0.0) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )
