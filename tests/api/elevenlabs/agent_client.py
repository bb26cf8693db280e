"""The ElevenLabs SDK's side of a conversation: an ``AudioInterface`` that speaks local-TTS
speech into it at real-time pace (silence in between) and keeps what the agent says."""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import httpx
from elevenlabs import ElevenLabs

from tests.harness import Creds, RunningServer

with warnings.catch_warnings():
    # The SDK's module names a deprecated websockets class in an annotation, at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from elevenlabs.conversational_ai.conversation import AudioInterface

CHUNK_S = 0.05
RATE = 16000


@contextlib.contextmanager
def sdk(server: RunningServer, creds: Creds) -> Iterator[ElevenLabs]:
    """The SDK pointed at the server, with an HTTP client closed afterwards."""
    with httpx.Client(timeout=60) as http:
        yield ElevenLabs(api_key=creds.api_key, base_url=server.url, httpx_client=http)


class Speaker(AudioInterface):
    """Feeds queued PCM (16 kHz) to the conversation in 50 ms chunks at real-time pace,
    silence in between, and collects the agent's audio."""

    def __init__(self) -> None:
        self.heard = bytearray()
        self.interruptions = 0
        self._queue: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent_all = threading.Event()
        self.sent_all.set()

    def say(self, pcm: bytes) -> None:
        with self._lock:
            self.sent_all.clear()
            self._queue.append(pcm)

    def start(self, input_callback: Callable[[bytes], None]) -> None:
        def run() -> None:
            step = int(RATE * 2 * CHUNK_S)
            silence = bytes(step)
            started = time.monotonic()
            sent = 0
            pending = b""
            while not self._stop.is_set():
                with self._lock:
                    if not pending and self._queue:
                        pending = self._queue.pop(0)
                    if not pending and not self._queue:
                        self.sent_all.set()
                chunk, pending = (pending[:step], pending[step:]) if pending else (silence, b"")
                input_callback(chunk.ljust(step, b"\0"))
                sent += 1
                time.sleep(max(0.0, started + sent * CHUNK_S - time.monotonic()))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def output(self, audio: bytes) -> None:
        self.heard += audio

    def interrupt(self) -> None:
        self.interruptions += 1
