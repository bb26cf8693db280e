"""The one loop that writes a product's events as a streaming HTTP response.

A surface gives a writer (an event -> the bytes its SDK expects, or nothing) and gets a
``StreamingResponse``. The first event is awaited before the status line is sent, so a stream
that fails before any audio or text is still a clean error in the surface's shape; a failure
later is written by the writer in the surface's own way (an SSE error event, or just the end of
the stream), and the stream ends there. Whatever ends the response (the end of the product's
events, a failure, or the client going away), the product's stream is closed, so it can mark
its usage record and drop what it held.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping

import anyio
from fastapi.responses import StreamingResponse

from sottovoce.services.events import Event, Failed, first_or_raise

Writer = Callable[[Event], bytes | None]


async def stream_events(
    events: AsyncIterator[Event],
    write: Writer,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    prefix: bytes = b"",
) -> StreamingResponse:
    """``prefix``: bytes sent before the first event (a stream's opening line)."""
    first, rest = await first_or_raise(events)

    async def body() -> AsyncIterator[bytes]:
        try:
            if prefix:
                yield prefix
            event = first
            while event is not None:
                data = write(event)
                if data:
                    yield data
                if isinstance(event, Failed):
                    break
                event = await anext(rest, None)
        finally:
            close = getattr(rest, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeError):
                    await close()

    return StreamingResponse(body(), media_type=media_type, headers=headers)
