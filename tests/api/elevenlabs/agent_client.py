"""What the agent tests share: agents made through the SDK, an ``AudioInterface`` that speaks
local-TTS speech into a conversation at real-time pace and keeps what the agent says."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from elevenlabs import ElevenLabs
from elevenlabs.conversational_ai.conversation import AudioInterface

from tests.harness import Creds, RunningServer
from tests.polling import wait_for

CHUNK_S = 0.05
RATE = 16000

PROMPT_ECHO = (
    "You are a helpful assistant on a phone line. Answer every question in one short sentence."
)


def sdk(server: RunningServer, creds: Creds) -> ElevenLabs:
    return ElevenLabs(api_key=creds.api_key, base_url=server.url)


def create_agent(
    server: RunningServer,
    creds: Creds,
    *,
    prompt: str = PROMPT_ECHO,
    first_message: str = "",
    privacy: dict[str, Any] | None = None,
    text_only: bool = False,
    tools: list[dict[str, Any]] | None = None,
    llm: str | None = None,
    turn: dict[str, Any] | None = None,
    **conversation: Any,
) -> str:
    prompt_config: dict[str, Any] = {"prompt": prompt, "temperature": 0, "max_tokens": 60}
    if tools:
        prompt_config["tools"] = tools
    if llm:
        prompt_config["llm"] = llm
    config: dict[str, Any] = {
        "agent": {"first_message": first_message, "language": "en", "prompt": prompt_config},
        "tts": {"voice_id": "joe", "agent_output_audio_format": "pcm_16000"},
        "turn": turn or {"turn_timeout": -1},
        "conversation": {"text_only": text_only, **conversation},
    }
    import httpx

    reply = httpx.post(
        f"{server.url}/v1/convai/agents/create",
        headers={"xi-api-key": creds.api_key},
        json={
            "name": "test agent",
            "conversation_config": config,
            "platform_settings": {"privacy": privacy or {}},
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["agent_id"])


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


def wait(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    return wait_for(check, what, timeout=timeout)
