"""Voice-agent benchmark: turn latency, barge-in stop time and 4 conversations at once, through
the server's OpenAI Realtime socket (the same engine as the ElevenLabs agents' socket), with
the local engines: Whisper tiny.en for turns, SmolLM2-135M (greedy), Piper.

- Turn latency: 20 spoken questions (made by Piper) sent at real-time pace in 20 ms chunks, each
  followed by silence until the answer has played. Latency = end of the user's speech (known
  from the audio sent) -> first agent audio. Stages, as the client sees them: end-of-turn wait
  (-> ``input_audio_buffer.speech_stopped``), STT final (-> ``...transcription.completed``),
  LLM first clause (-> the transcript delta that completes the first clause), TTS first audio
  (-> the first ``response.output_audio.delta``). Target: p50 <= 1.2 s with a 0.5 s
  end-of-turn silence.
- Barge-in: while the agent speaks a long answer, the user starts talking; stop time = the
  user's speech onset (when its first sample was sent) -> the client is told to stop
  (``input_audio_buffer.speech_started``, at which OpenAI's clients stop playing; the reply is
  cancelled then), or the last agent audio of that reply if any came later. Target <= 150 ms.
- 4 conversations at once, 3 turns each: the agent's audio is "played" at real time as it
  arrives; a gap is audio that arrived later than its playback time. Target: no gap > 200 ms.

Run: ``.venv/bin/python bench/agent.py [--turns 20]`` from the repository root. It starts its
own server (engines preloaded) on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import RunningServer
from tests.spoken import resample, speak

RATE = 24000
CHUNK_S = 0.02
QUESTIONS = (
    "What is the capital of France?",
    "How many days are in a week?",
    "What color is the sky?",
    "What is two plus two?",
    "Which animal says moo?",
    "What is the largest ocean?",
)
INSTRUCTIONS = "You are a helpful assistant. Answer in one short sentence."
CLAUSE_END = re.compile(r"[.,;:!?]")


def pcm(text: str) -> bytes:
    return resample(speak(text), RATE).astype("<i2").tobytes()


@dataclass
class Reply:
    """What the client saw of one reply, in wall-clock seconds."""

    stopped: float | None = None
    transcribed: float | None = None
    first_clause: float | None = None
    first_audio: float | None = None
    last_audio: float | None = None
    done: float | None = None
    status: str = ""
    audio_s: float = 0.0
    max_gap: float = 0.0
    _text: str = ""
    _play_start: float | None = None


@dataclass
class Session:
    ws: ClientConnection
    replies: list[Reply] = field(default_factory=list)
    current: Reply = field(default_factory=Reply)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    speech_started: float | None = None

    async def reader(self) -> None:
        async for raw in self.ws:
            event = json.loads(raw)
            kind, now, reply = event["type"], time.perf_counter(), self.current
            if kind == "input_audio_buffer.speech_started":
                self.speech_started = now
            elif kind == "input_audio_buffer.speech_stopped":
                reply.stopped = now
            elif kind == "conversation.item.input_audio_transcription.completed":
                reply.transcribed = now
            elif kind == "response.output_audio_transcript.delta":
                reply._text += event["delta"]
                if reply.first_clause is None and CLAUSE_END.search(reply._text):
                    reply.first_clause = now
            elif kind == "response.output_audio.delta":
                seconds = len(base64.b64decode(event["delta"])) / 2 / RATE
                if reply._play_start is None:
                    reply.first_audio = reply._play_start = now
                # Played in real time from the first chunk on: a chunk later than its turn is a gap.
                reply.max_gap = max(reply.max_gap, now - (reply._play_start + reply.audio_s))
                reply.audio_s += seconds
                reply.last_audio = now
            elif kind == "response.done":
                reply.done, reply.status = now, event["response"]["status"]
                self.replies.append(reply)
                self.current = Reply()
                self.done.set()

    async def send_audio(self, data: bytes) -> float:
        """Send at real-time pace; the wall time the last sample was sent."""
        step = int(RATE * 2 * CHUNK_S)
        start = time.perf_counter()
        for i in range(0, len(data), step):
            await self.ws.send(
                json.dumps(
                    {
                        "type": "input_audio_buffer.append",
                        "audio": base64.b64encode(data[i : i + step]).decode(),
                    }
                )
            )
            await asyncio.sleep(max(0.0, start + (i + step) / 2 / RATE - time.perf_counter()))
        return time.perf_counter()

    async def silence_until_played(self) -> None:
        """Silence (as a live microphone sends it) until the reply is done and has played."""
        chunk = bytes(int(RATE * 2 * CHUNK_S))
        while True:
            reply = self.replies[-1] if self.done.is_set() and self.replies else None
            if reply is not None:
                end = (reply.first_audio or reply.done or 0) + reply.audio_s + 0.3
                if time.perf_counter() >= end:
                    return
            await self.send_audio(chunk)

    async def turn(self, speech: bytes) -> tuple[Reply, float]:
        self.done.clear()
        await self.send_audio(bytes(int(RATE * 2 * 0.3)))
        speech_end = await self.send_audio(speech)
        await self.silence_until_played()
        return self.replies[-1], speech_end


async def open_session(url: str, key: str) -> Session:
    ws = await connect(url, additional_headers={"Authorization": f"Bearer {key}"}, max_size=None)
    session = Session(ws)
    await ws.send(
        json.dumps(
            {
                "type": "session.update",
                "session": {
                    "instructions": INSTRUCTIONS,
                    "max_output_tokens": 40,
                    "audio": {"input": {"transcription": {"model": "whisper-1"}}},
                },
            }
        )
    )
    asyncio.get_running_loop().create_task(session.reader())
    return session


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def turns(url: str, key: str, count: int, clips: list[bytes], verbose: bool) -> None:
    session = await open_session(url, key)
    await session.turn(clips[0])  # warm-up, not counted
    rows: list[tuple[float, float, float, float, float]] = []
    for i in range(count):
        reply, speech_end = await session.turn(clips[i % len(clips)])
        stopped, heard, first, audio = (
            reply.stopped,
            reply.transcribed,
            reply.first_clause,
            reply.first_audio,
        )
        if stopped is None or heard is None or first is None or audio is None:
            print(f"  turn {i}: incomplete ({reply.status})")
            continue
        clause = max(first, heard)
        rows.append(
            (
                audio - speech_end,
                stopped - speech_end,
                heard - stopped,
                clause - heard,
                audio - clause,
            )
        )
        if verbose:
            print("  turn " + " ".join(f"{v:.3f}" for v in rows[-1]) + f"  {reply._text[:50]!r}")
    await session.ws.close()
    total = [r[0] for r in rows]
    p50, p95 = pct(total, 50), pct(total, 95)
    print(f"turn latency over {len(rows)} turns: p50 {p50:.3f} s, p95 {p95:.3f} s")
    names = ("end-of-turn wait", "STT final", "LLM first clause", "TTS first audio")
    for index, name in enumerate(names, start=1):
        part = [r[index] for r in rows]
        share = statistics.median(part) / statistics.median(total) if total else float("nan")
        print(f"  {name:17s} median {statistics.median(part):.3f} s ({share:.0%})")


async def barge_in(url: str, key: str, reps: int, interruption: bytes) -> None:
    stops: list[float] = []
    for _ in range(reps):
        session = await open_session(url, key)
        session.done.clear()
        await session.ws.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": "Tell me a long story about a dragon."}
                        ],
                    },
                }
            )
        )
        await session.ws.send(json.dumps({"type": "response.create"}))
        while session.current.first_audio is None:
            await session.send_audio(bytes(int(RATE * 2 * CHUNK_S)))
        reply = session.current
        session.speech_started = None
        onset = time.perf_counter()
        await session.send_audio(interruption)
        await asyncio.wait_for(session.done.wait(), 30)
        # The agent's audio stops when the client is told to drop what it buffered (the reply
        # is cancelled: response.done) and no audio of that reply arrives after the onset.
        # OpenAI's clients stop playing at speech_started (the server then cancels the reply).
        told = min(t for t in (session.speech_started, reply.done) if t is not None)
        notice = told - onset
        late = max(0.0, (reply.last_audio or onset) - onset)
        stops.append(max(notice, late))
        print(
            f"  barge-in: {reply.status} {notice * 1000:.0f} ms after the onset, "
            f"last audio {late * 1000:.0f} ms after it"
        )
        await session.ws.close()
    print(f"barge-in stop time: p50 {pct(stops, 50) * 1000:.0f} ms, max {max(stops) * 1000:.0f} ms")


async def concurrent(url: str, key: str, conversations: int, clips: list[bytes]) -> None:
    async def one(index: int) -> list[Reply]:
        session = await open_session(url, key)
        await session.turn(clips[index % len(clips)])
        for i in range(2):
            await session.turn(clips[(index + i + 1) % len(clips)])
        await session.ws.close()
        return session.replies

    start = time.perf_counter()
    replies = [
        r for rs in await asyncio.gather(*(one(i) for i in range(conversations))) for r in rs
    ]
    gaps = [r.max_gap for r in replies if r.first_audio is not None]
    print(
        f"{conversations} conversations at once ({time.perf_counter() - start:.0f} s): "
        f"{len(gaps)} replies, largest audio gap {max(gaps) * 1000:.0f} ms, "
        f"{sum(g > 0.2 for g in gaps)} replies with a gap over 200 ms"
    )


async def main(count: int, verbose: bool, only_turns: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="sottovoce-bench-"))
    server = RunningServer(root, env={"SOTTOVOCE_ENGINES__PRELOAD": "true"}, startup_s=180)
    try:
        creds = server.create_workspace("bench", zdr=True)
        url = f"{server.ws_url}/v1/realtime?model=gpt-realtime"
        clips = [pcm(q) for q in QUESTIONS]
        await turns(url, creds.api_key, count, clips, verbose)
        if only_turns:
            return
        await barge_in(url, creds.api_key, 5, pcm("Wait, stop, I have a question."))
        await concurrent(url, creds.api_key, 4, clips)
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="print every turn")
    parser.add_argument("--only-turns", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.verbose, args.only_turns))
