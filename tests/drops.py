"""Clients that hang up half-way, over raw sockets on 127.0.0.1.

Each sends a real request (or opens a real socket), reads or sends part of it, then drops the
connection: with a FIN (the client closed its socket) or, with ``reset``, an RST (the client's
process died, or a middlebox gave up). The disconnect test (``tests/api/test_disconnects.py``)
and ``bench/memory.py`` use them.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct

RATE = 16_000


def _hang_up(sock: socket.socket, reset: bool) -> None:
    if reset:
        # SO_LINGER with a zero timeout: close() sends an RST instead of a FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _head(method: str, path: str, headers: dict[str, str], length: int) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "host: 127.0.0.1",
        f"content-length: {length}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def cut_tts_stream(port: int, key: str, text: str, *, reset: bool = False) -> bytes:
    """Ask for a TTS stream, read its first bytes (status line included), hang up.

    Returns what was read (starts with ``HTTP/1.1 200`` when the stream had begun)."""
    body = json.dumps({"text": text}).encode()
    path = "/v1/text-to-speech/joe/stream?output_format=pcm_16000"
    headers = {"xi-api-key": key, "content-type": "application/json"}
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        sock.sendall(_head("POST", path, headers, len(body)) + body)
        received = sock.recv(4096)
    finally:
        _hang_up(sock, reset)
    return received


def _multipart(wav: bytes) -> tuple[str, bytes]:
    boundary = base64.b16encode(os.urandom(8)).decode()
    parts = [
        f'--{boundary}\r\ncontent-disposition: form-data; name="model_id"\r\n\r\nscribe_v1\r\n',
        f'--{boundary}\r\ncontent-disposition: form-data; name="language_code"\r\n\r\nen\r\n',
        f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n'
        "content-type: audio/wav\r\n\r\n",
    ]
    body = "".join(parts).encode() + wav + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def cut_upload(port: int, key: str, wav: bytes, *, sent: float = 0.5, reset: bool = False) -> bytes:
    """Upload ``wav`` to ElevenLabs speech to text and hang up.

    ``sent`` < 1: after that share of the body (the server is still reading it). ``sent`` = 1:
    the whole body, then hang up before the answer (the server is transcribing). Returns what
    the server had answered by then (usually nothing)."""
    content_type, body = _multipart(wav)
    headers = {"xi-api-key": key, "content-type": content_type}
    head = _head("POST", "/v1/speech-to-text", headers, len(body))
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        sock.sendall(head + body[: int(len(body) * sent)])
        sock.settimeout(0.3)
        try:
            received = sock.recv(4096)
        except TimeoutError:
            received = b""
    finally:
        _hang_up(sock, reset)
    return received


def _frame(text: str) -> bytes:
    """One masked text frame, as a client must send it (RFC 6455)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_frame(sock: socket.socket, buffered: bytes) -> str:
    """The text of the server's first (unmasked, unfragmented) frame."""
    data = buffered
    while len(data) < 2 or len(data) < _frame_end(data):
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("the server closed the socket")
        data += more
    size, offset = data[1] & 0x7F, 2
    if size == 126:
        size, offset = struct.unpack("!H", data[2:4])[0], 4
    elif size == 127:
        size, offset = struct.unpack("!Q", data[2:10])[0], 10
    return data[offset : offset + size].decode()


def _frame_end(data: bytes) -> int:
    size = data[1] & 0x7F
    if size == 126:
        return 4 + (struct.unpack("!H", data[2:4])[0] if len(data) >= 4 else 1 << 16)
    if size == 127:
        return 10 + (struct.unpack("!Q", data[2:10])[0] if len(data) >= 10 else 1 << 62)
    return 2 + size


def cut_realtime(port: int, key: str, pcm: bytes, *, reset: bool = False) -> str:
    """Open an ElevenLabs realtime STT socket, send ``pcm`` in 100 ms chunks, then drop the TCP
    connection without a close frame. Returns the first message's type (``session_started``)."""
    query = f"xi_api_key={key}&model_id=scribe_v2_realtime&audio_format=pcm_16000"
    head = (
        f"GET /v1/speech-to-text/realtime?{query} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        "upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\n"
        f"sec-websocket-key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(head.encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            more = sock.recv(4096)
            if not more:
                raise ConnectionError("the server closed the connection")
            reply += more
        status, _, rest = reply.partition(b"\r\n\r\n")
        if not status.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(status.split(b"\r\n", 1)[0].decode())
        first = json.loads(_read_frame(sock, rest)).get("message_type", "")
        step = RATE * 2 // 10
        for offset in range(0, len(pcm), step):
            chunk = base64.b64encode(pcm[offset : offset + step]).decode()
            sock.sendall(
                _frame(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": chunk}))
            )
    finally:
        _hang_up(sock, reset)
    return str(first)
