"""The load benchmark's agent-like phase: callers on ElevenLabs conversation sockets, each
asking a spoken question at real-time pace and waiting for the agent's spoken answer (live STT,
the local LLM, TTS: the whole pipeline), again and again; and the mixed load, those callers
beside TTS streams and realtime STT sessions at once."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from bench.load_phases import (
    CHUNK,
    RATE,
    TRY_AGAIN_LATER,
    SttResult,
    TtsResult,
    speech_end,
    stt_load,
    tts_load,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

QUESTION = "What time does the pharmacy open on Saturday?"
ANSWER_WAIT_S = 30.0
"""How long a caller waits for the first audio of an answer before it counts "no answer"."""


@dataclass
class AgentResult:
    admitted: int = 0
    refused: int = 0
    answered: int = 0
    """Turns whose answer was heard (its first audio), of the admitted callers."""
    first_audio: list[float] = field(default_factory=list)
    """End of the caller's speech -> the first audio of the agent's answer."""
    failures: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    def failed(self) -> str:
        return ", ".join(f"{k}: {n}" for k, n in self.failures.items()) or "none"


def create_agent(url: str, key: str) -> str:
    """An agent on the local LLM and voice, answering in one short sentence."""
    prompt = {"prompt": "Answer in one short sentence.", "temperature": 0, "max_tokens": 40}
    config = {
        "agent": {"first_message": "", "language": "en", "prompt": prompt},
        "tts": {"voice_id": "joe", "agent_output_audio_format": "pcm_16000"},
        "turn": {"turn_timeout": -1},
        "conversation": {"text_only": False},
    }
    reply = httpx.post(
        f"{url}/v1/convai/agents/create",
        headers={"xi-api-key": key},
        json={"name": "load", "conversation_config": config},
        timeout=30,
    )
    reply.raise_for_status()
    return str(reply.json()["agent_id"])


async def _admitted(ws: ClientConnection, out: AgentResult) -> bool:
    await ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message.get("type") == "conversation_initiation_metadata":
                out.admitted += 1
                return True
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == TRY_AGAIN_LATER:
            out.refused += 1
            return False
        raise


async def caller(
    ws_url: str, key: str, agent: str, question: bytes, seconds: float, out: AgentResult
) -> None:
    """Ask, stream silence until the answer has been heard and is over, ask again."""
    spoken_s = speech_end(question)
    url = f"{ws_url}/v1/convai/conversation?agent_id={agent}"
    silence = b"\x00" * CHUNK
    try:
        async with connect(url, additional_headers={"xi-api-key": key}, open_timeout=30) as ws:
            if not await _admitted(ws, out):
                return
            heard = asyncio.Event()  # the first audio of the current answer
            over = asyncio.Event()  # its text is complete (agent_response)
            asked_at = [0.0]

            async def receive() -> None:
                async for raw in ws:
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "ping":
                        pong = {"type": "pong", "event_id": message["ping_event"]["event_id"]}
                        await ws.send(json.dumps(pong))
                    elif kind == "audio" and not heard.is_set():
                        out.first_audio.append(time.perf_counter() - asked_at[0])
                        out.answered += 1
                        heard.set()
                    elif kind == "agent_response":
                        over.set()

            receiver = asyncio.create_task(receive())
            start = time.perf_counter()
            sent = 0

            async def send(chunk: bytes) -> None:
                nonlocal sent
                delay = start + sent * 0.1 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)  # real-time pace: chunk n leaves at n * 100 ms
                await ws.send(json.dumps({"user_audio_chunk": base64.b64encode(chunk).decode()}))
                sent += 1

            while time.perf_counter() - start < seconds and not receiver.done():
                heard.clear()
                over.clear()
                asked_at[0] = start + sent * 0.1 + spoken_s
                for offset in range(0, len(question), CHUNK):
                    await send(question[offset : offset + CHUNK])
                waited = time.perf_counter()
                while not (heard.is_set() and over.is_set()) and not receiver.done():
                    if not heard.is_set() and time.perf_counter() - waited > ANSWER_WAIT_S:
                        out.failures["no answer"] += 1
                        break
                    await send(silence)
                for _ in range(10):  # a second's pause before the next question
                    await send(silence)
            receiver.cancel()
    except Exception as error:  # a dropped call is counted, not fatal
        out.failures[type(error).__name__] += 1


async def agent_load(
    ws_url: str, key: str, agent: str, question: bytes, callers: int, seconds: float
) -> AgentResult:
    out = AgentResult()
    started = time.monotonic()
    await asyncio.gather(
        *(caller(ws_url, key, agent, question, seconds, out) for _ in range(callers))
    )
    out.wall_s = time.monotonic() - started
    return out


async def mixed_load(
    url: str,
    ws_url: str,
    key: str,
    agent: str,
    pcm: dict[str, bytes],
    load: tuple[int, int, int],
    seconds: float,
) -> tuple[AgentResult, TtsResult, SttResult]:
    """``load`` = (callers, TTS streams, realtime STT sessions), all at once for ``seconds``;
    ``pcm`` holds the caller's ``question`` and the STT sessions' ``utterance``."""
    callers, streams, sessions = load
    agents, tts, stt = await asyncio.gather(
        agent_load(ws_url, key, agent, pcm["question"], callers, seconds),
        tts_load(url, key, streams, seconds),
        stt_load(ws_url, key, pcm["utterance"], sessions, seconds),
    )
    return agents, tts, stt


def spoken(url: str, key: str, text: str) -> bytes:
    """``text`` spoken by the local TTS, 16 kHz 16-bit PCM."""
    reply = httpx.post(
        f"{url}/v1/text-to-speech/joe?output_format=pcm_{RATE}",
        json={"text": text},
        headers={"xi-api-key": key},
        timeout=60,
    )
    reply.raise_for_status()
    return reply.content
