"""What the socket surfaces share: reading JSON messages within limits, writing from several
utterance tasks at once, closing with a code that says what went wrong, and the life of a live
transcription session on a socket (:func:`transcribe_live`).

Reading refuses, each with its typed error: a binary frame where JSON text is expected, a
message larger than ``tts.max_socket_message_bytes``, text that is not a JSON object, and a
silence longer than the socket's inactivity timeout. Writing is serialized (utterances of one
socket run in tasks of their own) and stops quietly once the client is gone. Nothing read is
ever logged or echoed in an error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import WebSocket, WebSocketDisconnect

from sottovoce import errors
from sottovoce.errors import (
    InactivityTimeout,
    InvalidJson,
    InvalidRequest,
    MessageTooLarge,
    SessionRevoked,
    SottovoceError,
    UnexpectedBinaryFrame,
)
from sottovoce.services.stt_live import LiveSession
from sottovoce.services.tts_live import TtsSession

# The close code of each kind of error, most specific first (RFC 6455 section 7.4.1).
_CLOSE_CODES: tuple[tuple[type[SottovoceError], int], ...] = (
    (errors.MessageTooLarge, 1009),
    (errors.UnexpectedBinaryFrame, 1003),
    (errors.EngineFailed, 1011),
    (errors.EngineUnavailable, 1011),
    (errors.UpstreamFailed, 1011),
    (errors.UpstreamTimeout, 1011),
    (errors.RetentionViolation, 1011),
    (errors.ServerDraining, 1001),
    (errors.TooBusy, 1013),
)
POLICY_VIOLATION = 1008


def close_code(exc: SottovoceError) -> int:
    """The close code for a socket ended by this error (1008 unless a more precise one fits)."""
    return next((code for cls, code in _CLOSE_CODES if isinstance(exc, cls)), POLICY_VIOLATION)


GONE = (RuntimeError, OSError, WebSocketDisconnect)
"""What sending raises once the client has gone."""


def parse(text: str, max_bytes: int) -> dict[str, Any]:
    """One client message: a JSON object within the size limit (raises typed errors)."""
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise MessageTooLarge()
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidJson("A message is not valid JSON.") from None
    if not isinstance(message, dict):
        raise InvalidRequest("A message must be a JSON object.")
    return message


class SocketIO:
    """One accepted socket, read and written under the TTS sockets' rules."""

    def __init__(self, websocket: WebSocket, max_bytes: int) -> None:
        self.websocket = websocket
        self.max_bytes = max_bytes
        self.gone = False
        """The client went away (or we closed): nothing more is sent."""
        self._lock = anyio.Lock()

    async def receive(self, idle_seconds: float) -> str | bytes:
        """The next message, text or binary; raises ``WebSocketDisconnect`` when the client
        closes, ``InactivityTimeout`` after ``idle_seconds`` of silence."""
        with anyio.move_on_after(idle_seconds):
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.gone = True
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            if text is not None:
                return str(text)
            return bytes(message.get("bytes") or b"")
        raise InactivityTimeout()

    async def receive_json(self, idle_seconds: float) -> dict[str, Any]:
        """The next message as a JSON object (a binary frame is refused)."""
        message = await self.receive(idle_seconds)
        if isinstance(message, bytes):
            raise UnexpectedBinaryFrame()
        return parse(message, self.max_bytes)

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self._send({"type": "websocket.send", "text": json.dumps(payload)})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code``; ``reason`` (ours, never content) travels in the close frame."""
        async with self._lock:
            if self.gone:
                return
            self.gone = True
            with contextlib.suppress(*GONE):
                await self.websocket.close(code=code, reason=reason)

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            if self.gone:
                return
            try:
                await self.websocket.send(message)
            except GONE:
                self.gone = True

    async def fail(self, payload: dict[str, Any], exc: SottovoceError) -> None:
        """Send the vendor's error message, then close with the error's code."""
        await self.send_json(payload)
        await self.close(close_code(exc))


async def wait_watching(io: SocketIO, session: TtsSession) -> None:
    """Wait until the session's utterances are over; a client that hangs up meanwhile
    cancels them (what it sends in the meantime is ignored). A session revoked meanwhile
    cancels them too, and its error is raised once they are gone."""
    revoked: SessionRevoked | None = None

    async def watch() -> None:
        nonlocal revoked
        try:
            while True:
                await io.receive(3600.0)
        except (WebSocketDisconnect, RuntimeError, OSError):
            session.cancel_all()
        except SessionRevoked as exc:
            revoked = exc
            session.cancel_all()
        except SottovoceError:
            pass

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch)
        await session.wait_all()
        tasks.cancel_scope.cancel()
    if revoked is not None:
        raise revoked


async def transcribe_live(
    io: SocketIO,
    session: LiveSession,
    serve: Callable[[], Awaitable[None]],
    error_message: Callable[[SottovoceError, str], dict[str, Any]],
) -> None:
    """A live transcription session on a socket, however it ends: started, then served by the
    surface's ``serve``; a client that hangs up ends it quietly, one that vanishes mid-answer
    marks its usage cancelled, an error is told in the surface's ``error_message`` (with the
    close code that fits); and it is always finished (its usage record, and its history item
    when the decision keeps one)."""
    usage = session.ctx.usage
    try:
        await session.start()
        await serve()
    except WebSocketDisconnect:
        pass
    except GONE:
        usage.cancelled = True
    except SottovoceError as exc:
        usage.error_code = exc.code
        await io.fail(error_message(exc, session.ctx.request_id), exc)
    finally:
        await session.finish()
