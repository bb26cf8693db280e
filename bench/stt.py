"""Speech-to-text benchmark: the server against the same model in-process, side by side.

    .venv/bin/python bench/stt.py [--speech DIR] [--realtime-clips N] [--only files|realtime]

For each clip of ``../shared/speech`` (manifest.tsv holds the reference transcripts):
  * in-process: decode + ``WhisperTranscriber.transcribe`` (the engine the server runs), a
    call whose channels carry different speakers heard channel by channel, as the server does;
  * server: ``POST /v1/audio/transcriptions`` on a real ``sottovoce serve`` on 127.0.0.1;
  * bare: faster-whisper's own ``decode_audio`` + ``WhisperModel.transcribe`` on the same
    loaded model, same settings (int8, beam 5, VAD), the downmix only: this machine's floor.
The three take turns clip by clip in one run, so machine noise hits all alike. Printed: WER
(errors summed over clips / reference words, after Whisper's English normaliser from
``whisper-normalizer``) and RTF (wall seconds / audio seconds) for each, and their ratio.
Then the realtime WebSocket: clips streamed at real-time pace in 100 ms chunks with VAD
commits; latency from the last audio chunk of the clip to its committed transcript.
The folder is not part of the repository: without it the benchmark skips with a message.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import jiwer
from faster_whisper.audio import decode_audio as fw_decode_audio
from websockets.sync.client import connect
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from sottovoce.audio.channels import separate_speakers
from sottovoce.audio.decode import decode_audio
from sottovoce.config import SttSettings
from sottovoce.engines.base import TranscriptionRequest
from sottovoce.engines.channels import hear
from sottovoce.engines.whisper import WhisperTranscriber
from sottovoce.privacy.sensitive import Sensitive

ROOT = Path(__file__).resolve().parents[1]

NORMALISE = EnglishTextNormalizer()
_BASIC = BasicTextNormalizer()
_DIGITS = {
    str(i): word
    for i, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    )
}


def spelled_digits(text: str) -> str:
    """Second opinion: Whisper's basic normaliser with every digit spelled out, both sides.

    Whisper's English normaliser turns "one zero zero" into "100" but "1-0-0" into "one 0 0",
    so digit strings (two of the clips) score by formatting rather than by recognition.
    """
    return _BASIC("".join(f" {_DIGITS[c]} " if c in _DIGITS else c for c in text))


def load_manifest(speech: Path) -> list[tuple[Path, str]]:
    clips = []
    with (speech / "manifest.tsv").open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            ref = row["reference_transcript"]
            # Two speakers on two channels, both at once: the left one's words, then the right
            # one's (the order of a transcript interleaved by segment start, then channel).
            ref = ref.replace("LEFT:", "").replace("| RIGHT:", " ")
            clips.append((speech / row["file"], ref))
    return clips


def errors(ref: str, hyp: str, normalise: Any = NORMALISE) -> tuple[int, int]:
    r, h = normalise(ref), normalise(hyp)
    out = jiwer.process_words(r, h)
    return out.substitutions + out.deletions + out.insertions, len(r.split())


class Tally:
    def __init__(self) -> None:
        self.errors = self.words = self.errors2 = self.words2 = 0
        self.seconds = self.audio = 0.0

    def add(self, ref: str, hyp: str, seconds: float, audio: float) -> None:
        e, w = errors(ref, hyp)
        self.errors += e
        self.words += w
        e2, w2 = errors(ref, hyp, spelled_digits)
        self.errors2 += e2
        self.words2 += w2
        self.seconds += seconds
        self.audio += audio

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)

    @property
    def wer_spelled(self) -> float:
        return self.errors2 / max(self.words2, 1)

    @property
    def rtf(self) -> float:
        return self.seconds / max(self.audio, 1e-9)


def in_process(engine: WhisperTranscriber, data: bytes) -> tuple[str, float, float]:
    started = time.perf_counter()
    audio = decode_audio(Sensitive(data), max_seconds=3600)
    request = TranscriptionRequest(audio=audio.samples, language="en", word_timestamps=False)
    split = separate_speakers(audio.channel_arrays())
    text = anyio.run(lambda: hear(engine, audio, request, split=split)).transcript.reveal().text
    return text, time.perf_counter() - started, audio.duration


def bare(engine: WhisperTranscriber, data: bytes) -> tuple[str, float]:
    started = time.perf_counter()
    samples = fw_decode_audio(io.BytesIO(data), sampling_rate=16000)
    segments, _ = engine.model.transcribe(samples, language="en", beam_size=5, vad_filter=True)
    text = " ".join(s.text for s in segments)
    return text, time.perf_counter() - started


def over_http(client: httpx.Client, key: str, name: str, data: bytes) -> tuple[str, float]:
    started = time.perf_counter()
    r = client.post(
        "/v1/audio/transcriptions",
        headers={"authorization": f"Bearer {key}"},
        files={"file": (name, data)},
        data={"model": "whisper-1", "language": "en"},
    )
    r.raise_for_status()
    return str(r.json()["text"]), time.perf_counter() - started


def speech_end(audio: Any) -> float:
    """Seconds to the last 20 ms frame louder than a tenth of the loudest one."""
    frames = audio[: audio.size // 320 * 320].reshape(-1, 320)
    rms = (frames.astype("float64") ** 2).mean(axis=1) ** 0.5
    loud = (rms > 0.1 * rms.max()).nonzero()[0]
    return float((loud[-1] + 1) * 0.02)


def realtime_latency(server: Any, key: str, data: bytes, silence_s: float) -> float:
    """Seconds from the end of speech (streamed at real-time pace) to its committed transcript."""
    audio = decode_audio(Sensitive(data), max_seconds=3600).array()
    pcm = (audio.clip(-1, 1) * 32767).astype("<i2").tobytes()
    step = 3200  # 100 ms of 16 kHz s16
    query = httpx.QueryParams(
        {
            "xi_api_key": key,
            "audio_format": "pcm_16000",
            "commit_strategy": "vad",
            "vad_silence_threshold_secs": silence_s,
            "language_code": "en",
        }
    )
    stream = pcm + b"\x00" * int(16000 * 2 * (silence_s + 3))
    commits: list[float] = []
    url = f"{server.ws_url}/v1/speech-to-text/realtime?{query}"
    with connect(url, open_timeout=30, max_size=None) as ws:
        json.loads(ws.recv(timeout=30))
        start = time.perf_counter()
        for i, offset in enumerate(range(0, len(stream), step)):
            # Real-time pace: chunk i leaves at i * 100 ms.
            delay = start + i * 0.1 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            message = {"audio_base_64": base64.b64encode(stream[offset : offset + step]).decode()}
            ws.send(json.dumps(message))
            drain(ws, commits)
        drain(ws, commits, wait=5)
    if not commits:
        return float("nan")
    return commits[-1] - (start + speech_end(audio))


def drain(ws: Any, commits: list[float], wait: float = 0) -> None:
    """Read what has arrived, noting when each committed transcript came."""
    while True:
        try:
            message = json.loads(ws.recv(timeout=wait))
        except TimeoutError:
            return
        if message["message_type"] == "committed_transcript" and message["text"]:
            commits.append(time.perf_counter())


def files_side_by_side(
    engine: WhisperTranscriber, server: Any, key: str, clips: list[tuple[Path, str]]
) -> None:
    local, remote, floor = Tally(), Tally(), Tally()
    with httpx.Client(base_url=server.url, timeout=300) as client:
        first = clips[0][0].read_bytes()
        in_process(engine, first)  # warm-up, every side
        over_http(client, key, clips[0][0].name, first)
        bare(engine, first)
        print(f"{'clip':40s} {'in-proc s':>9s} {'server s':>9s} {'bare s':>9s}  errors")
        for i, (path, ref) in enumerate(clips):
            data = path.read_bytes()
            hyps: dict[str, tuple[str, float]] = {}
            sides = ["local", "server", "bare"]
            # Rotate which side goes first, so drift does not favour one.
            for side in sides[i % 3 :] + sides[: i % 3]:
                if side == "local":
                    text, sec, dur = in_process(engine, data)
                    hyps[side] = (text, sec)
                elif side == "server":
                    hyps[side] = over_http(client, key, path.name, data)
                else:
                    hyps[side] = bare(engine, data)
            for side, tally in (("local", local), ("server", remote), ("bare", floor)):
                tally.add(ref, *hyps[side], dur)
            e = "/".join(str(errors(ref, hyps[side][0])[0]) for side in sides)
            sec_l, sec_s, sec_b = (hyps[side][1] for side in sides)
            print(f"{path.name:40s} {sec_l:9.2f} {sec_s:9.2f} {sec_b:9.2f}  {e}")
    print()
    print(f"audio {local.audio:.1f} s, {local.words} reference words (Whisper EN normaliser)")
    for name, tally in (("in-process", local), ("server", remote), ("bare", floor)):
        print(
            f"{name:11s} WER {tally.wer:.4f} ({tally.errors}/{tally.words})"
            f"  [digits spelled: {tally.wer_spelled:.4f}]  RTF {tally.rtf:.3f}"
        )
    print(f"server/in-process RTF ratio {remote.rtf / local.rtf:.3f} (target <= 1.05)")
    print(f"server/bare faster-whisper RTF ratio {remote.rtf / floor.rtf:.3f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--realtime-clips", type=int, default=4)
    parser.add_argument("--silence", type=float, default=0.5, help="VAD silence to commit (s)")
    parser.add_argument("--only", choices=("files", "realtime"), help="run one half only")
    args = parser.parse_args()
    if not (args.speech / "manifest.tsv").is_file():
        print(f"skipped: no speech clips at {args.speech} (pass --speech DIR)")
        return
    clips = load_manifest(args.speech)
    # The tests' harness starts and stops a real server the same way the suite does.
    sys.path.insert(0, str(ROOT))
    from tests.harness import RunningServer

    engine = WhisperTranscriber(SttSettings(), threads=2)
    engine.load()
    root = Path(tempfile.mkdtemp(prefix="sottovoce-bench-"))
    server = RunningServer(root, env={"SOTTOVOCE_ENGINES__PRELOAD": "true"})
    try:
        key = server.create_workspace("bench", zdr=True).api_key
        if args.only != "realtime":
            files_side_by_side(engine, server, key, clips)
        if args.only == "files":
            return
        print(f"realtime, VAD silence {args.silence} s, real-time pace, 100 ms chunks:")
        by_length = sorted(clips, key=lambda c: c[0].stat().st_size)
        picks = by_length[:: max(1, len(by_length) // args.realtime_clips)][: args.realtime_clips]
        latencies = []
        for path, _ in picks:
            latency = realtime_latency(server, key, path.read_bytes(), args.silence)
            latencies.append(latency)
            print(f"  {path.name:40s} end of speech -> committed {latency:.2f} s")
        latencies.sort()
        median = latencies[len(latencies) // 2]
        print(
            f"  median {median:.2f} s (includes the {args.silence} s of silence the VAD waits "
            f"for; processing {median - args.silence:.2f} s)"
        )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
