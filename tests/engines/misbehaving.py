"""Providers that misbehave on purpose, where a real sottovoce never would.

A second sottovoce plays every provider that works (``test_upstream_speech.py``); these stand
for the ways a provider fails that sottovoce itself never shows: an error reply whose body
quotes the request (here, a canary), a provider that accepts the call and then says nothing, and
one that hangs up in the middle of a stream. Each listens on 127.0.0.1 in a thread of its own.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve


class HttpProvider:
    """``error``: every request (a socket's handshake too) gets a 500 whose body is the canary;
    ``silent``: requests are read and never answered; ``drop``: a reply that promises more
    bytes than it sends, then the connection closes."""

    def __init__(self, mode: str, canary: str = "") -> None:
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if mode == "silent":
                    owner.stop.wait(30)
                    return
                body = canary.encode() * 3 if mode == "error" else b"\0" * 4000
                self.send_response(500 if mode == "error" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) * (1 if mode == "error" else 25)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if mode == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.http.shutdown()
        self.http.server_close()


class SocketDropper:
    """Accepts a socket, reads one message, and hangs up without a close frame."""

    def __init__(self) -> None:
        def handler(ws: ServerConnection) -> None:
            with contextlib.suppress(Exception):
                ws.recv(timeout=30)
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()

        self.server: Server = serve(handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
