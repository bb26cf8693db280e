"""An OpenAI-compatible chat provider with a script instead of a model: the LLM an agent test
needs when the behaviour under test must not depend on a model being clever.

It streams (SSE, ``[DONE]``) a reply chosen from the last message:

- ``[result of NAME] TEXT`` (a tool's result) -> ``The tool said: TEXT``
- ``call NAME with VALUE`` -> a tool call ``<tool_call>{"name": NAME, "arguments":
  {"value": VALUE}}</tool_call>`` after a few words
- ``goodbye`` -> ``Goodbye, have a nice day.`` and a call of ``end_call``
- ``break off`` -> a few words, then the connection drops mid-reply
- anything else -> ``You said: TEXT``

It runs in a thread of the test process on 127.0.0.1, like a provider elsewhere would.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any

from sottovoce.audit.flaky_upstream import FlakyUpstream


def reply_to(messages: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """The reply's pieces, and whether the connection breaks off after them."""
    last = str(messages[-1].get("content", "")) if messages else ""
    if match := re.match(r"\[result of ([\w-]+)\] (.*)", last, re.DOTALL):
        return ["The tool ", f"said: {match.group(2)}"], False
    if match := re.search(r"call ([\w-]+) with (\S+)", last):
        call = json.dumps({"name": match.group(1), "arguments": {"value": match.group(2)}})
        return ["One moment. ", "<tool_", f"call>{call}</tool_call>"], False
    if "goodbye" in last.lower():
        end = json.dumps({"name": "end_call", "arguments": {}})
        return ["Goodbye, ", "have a nice day. ", f"<tool_call>{end}</tool_call>"], False
    if "break off" in last.lower():
        return ["Let me ", "check that "], True
    return ["You said: ", last], False


def _chunk(text: str, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "choices": [
            {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
        ],
    }
    data = f"data: {json.dumps(body)}\n\n".encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class ScriptedLlm(FlakyUpstream):
    """The provider; ``provider(name)`` is its entry for ``SOTTOVOCE_LLM__UPSTREAM``."""

    def provider(self, name: str = "scripted") -> dict[str, object]:  # type: ignore[override]
        return {
            "name": name,
            "base_url": self.base_url,
            "models": ["script"],
            "retention_sync": "none",
            "retention_streaming": "none",
            "timeout_s": 20,
        }

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(body) < length:
                    body += conn.recv(65536)
                pieces, breaks = reply_to(json.loads(body)["messages"])
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                )
                for piece in pieces:
                    conn.sendall(_chunk(piece))
                if breaks:
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(_chunk("", "stop"))
                done = b"data: [DONE]\n\n"
                conn.sendall(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
            except (OSError, StopIteration, ValueError, KeyError):
                return
