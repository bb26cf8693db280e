"""An OpenAI-compatible chat provider that breaks off mid-reply: the audit's failing LLM.

It answers every ``POST .../chat/completions`` with a streamed reply (chunked SSE) whose first
chunk says a few words and then drops the connection without finishing the body, as a provider
that crashes mid-reply would. A server that routes an agent's (or a chat request's) LLM to it
must fail that reply cleanly and keep nothing of it under zero retention. Used by the audit
when it starts its own server, and by the tests.
"""

from __future__ import annotations

import json
import socket
import threading

FLAKY_UPSTREAM = "audit-flaky"
"""The provider name the audit gives it."""
WORDS = "Let me check that for you"


def _reply() -> bytes:
    chunk = {
        "id": "chatcmpl-flaky",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": WORDS}}],
    }
    body = f"data: {json.dumps(chunk)}\n\n".encode()
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + f"{len(body):x}\r\n".encode() + body + b"\r\n"


class FlakyUpstream:
    """A listener on 127.0.0.1 (port chosen by the system), served by a daemon thread."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def provider(self) -> dict[str, object]:
        """Its entry for ``SOTTOVOCE_LLM__UPSTREAM`` (declared zero retention, so that ZDR
        requests reach it and fail there)."""
        return {
            "name": FLAKY_UPSTREAM,
            "base_url": self.base_url,
            "models": ["probe"],
            "retention_sync": "none",
            "retention_streaming": "none",
            "timeout_s": 10,
        }

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    more = conn.recv(65536)
                    if not more:
                        return
                    body += more
                conn.sendall(_reply())
                # No final chunk: the body never ends, the connection just goes.
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                return

    def close(self) -> None:
        self._listener.close()
