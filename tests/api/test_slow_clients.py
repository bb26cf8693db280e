"""Slow clients are timed out, over raw sockets: headers that never end, a body that stalls, a
body that trickles. Each is answered (408 in the vendor's shape) or closed, within the server's
deadlines (1 s and 3 s here), while the server keeps serving everyone else."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.harness import RunningServer


@pytest.fixture
def strict(strict_server: RunningServer) -> RunningServer:
    """The server with short deadlines (``tests/api/conftest.py``: ``STRICT_ENV``)."""
    return strict_server


def raw(server: RunningServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes; how long that took."""
    started, data = time.monotonic(), b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def test_headers_that_never_end_are_closed(strict: RunningServer) -> None:
    with raw(strict) as silent, raw(strict) as partial:
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: never ends
        for sock in (silent, partial):
            data, waited = read_until_closed(sock)
            assert data == b""
            assert waited < 3
    # Everyone else is still served, and a request that completes its headers is not cut.
    with raw(strict) as polite:
        polite.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = read_until_closed(polite)
    assert data.startswith(b"HTTP/1.1 200")


def one_response(sock: socket.socket) -> bytes:
    """One whole response (its headers, then as many bytes as its content-length says)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_kept_alive_connection_must_finish_its_next_headers_too(strict: RunningServer) -> None:
    with raw(strict) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert one_response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        data, waited = read_until_closed(sock)
    assert data == b""
    assert waited < 3


def post_head(server: RunningServer, key: str, length: int) -> bytes:
    return (
        "POST /v1/text-to-speech/joe HTTP/1.1\r\nHost: x\r\n"
        f"xi-api-key: {key}\r\ncontent-type: application/json\r\n"
        f"content-length: {length}\r\n\r\n"
    ).encode()


def test_a_stalled_body_gets_408_in_the_vendors_shape(strict: RunningServer) -> None:
    creds = strict.create_workspace("slow")
    with raw(strict) as sock:
        sock.sendall(post_head(strict, creds.api_key, 100) + b'{"text": ')
        data, waited = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408")
    assert b'"status":"request_timeout"' in data  # ElevenLabs' detail
    assert waited < 3


def test_a_trickling_body_is_cut_at_the_total_deadline(strict: RunningServer) -> None:
    creds = strict.create_workspace("trickle")
    with raw(strict) as sock:
        sock.sendall(post_head(strict, creds.api_key, 1000))
        started = time.monotonic()
        answer = b""
        sock.settimeout(0.5)
        # A byte every half second: never idle for a second, never done.
        while time.monotonic() - started < 8:
            try:
                sock.sendall(b" ")
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if answer:
                break
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408")
    assert 2.5 < elapsed < 5
    assert httpx.get(f"{strict.url}/healthz").status_code == 200
