"""The local Whisper engine's live transcription: speech fed in pieces, as a socket would,
committed on a pause, on request or on close, with partials while the speaker talks."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import numpy as np
import pytest

from sottovoce.audio.decode import decode_audio
from sottovoce.engines.base import StreamEventKind, StreamOptions
from sottovoce.engines.whisper import WhisperTranscriber
from sottovoce.privacy.sensitive import Sensitive
from tests.spoken import Clip, encode, join, random_phrase, silence, speak, words_of


def feed_in_pieces(
    stream: object,
    samples: np.ndarray,
    piece: float = 0.1,
    pace: float = 0.0,
    then: tuple[str, ...] = (),
    until: Callable[[list], bool] | None = None,
    settle_at: float | None = None,
) -> tuple[list, list]:
    """Feed ``piece``-second chunks ``pace`` seconds apart, then call ``then`` (``commit`` or
    ``close``) in the same event loop, as a server would; returns (fed events, final events).
    With ``until``, silence goes on being fed at that pace after the samples until ``until``
    holds for the events so far (at most a minute): a busy machine decodes late, not never.
    With ``settle_at`` (seconds into the samples), the feeding waits there until the stream's
    background decode is done (at most a minute), as a quiet machine would have it done."""
    step = int(16000 * piece)

    async def settle() -> None:
        with anyio.move_on_after(60):
            while (running := stream._decoding) is not None and not running.task.done():  # type: ignore[attr-defined]
                await anyio.sleep(0.05)

    async def run() -> tuple[list, list]:
        events = []
        for i in range(0, samples.size, step):
            if settle_at is not None and i <= settle_at * 16000 < i + step:
                await settle()
            chunk = Sensitive(samples[i : i + step].astype("<f4").tobytes())
            events += await stream.feed(chunk)  # type: ignore[attr-defined]
            await anyio.sleep(pace)
        quiet = Sensitive(np.zeros(step, "<f4").tobytes())
        with anyio.move_on_after(60):
            while until is not None and not until(events):
                events += await stream.feed(quiet)  # type: ignore[attr-defined]
                await anyio.sleep(max(pace, 0.05))
        final = []
        for name in then:
            result = await getattr(stream, name)()
            final += result if isinstance(result, list) else [result]
        return events, final

    return anyio.run(run)


def as_16k(clip: Clip) -> np.ndarray:
    return decode_audio(Sensitive(encode(clip, "wav")), max_seconds=120).array()


def test_a_pause_commits_each_utterance(whisper: WhisperTranscriber) -> None:
    first, second = random_phrase(3, seed=1), random_phrase(3, seed=2)
    a, b = speak(" ".join(first) + "."), speak(" ".join(second) + ".")
    gap = silence(1.2, a.rate)
    audio = as_16k(join(silence(0.5, a.rate), a, gap, b, gap))
    stream = whisper.open_stream(
        StreamOptions(language="en", silence_seconds=0.8, partial_interval=0)
    )
    events, closing = feed_in_pieces(stream, audio, then=("close",))
    committed = [e.transcript.reveal() for e in events if e.kind is StreamEventKind.COMMITTED]
    assert [words_of(t.text) for t in committed] == [first, second]
    # Times are session times: the second utterance starts after the first ends.
    assert committed[0].segments[0].start < committed[1].segments[0].start
    assert committed[1].segments[0].start > a.duration
    assert stream.audio_seconds == pytest.approx(audio.size / 16000)
    assert closing == []


def test_partials_while_speaking_then_commit_on_request(whisper: WhisperTranscriber) -> None:
    sentence = "The nurse will call you back after lunch to confirm the appointment."
    clip = speak(sentence)
    stream = whisper.open_stream(
        StreamOptions(language="en", commit_on_silence=False, partial_interval=0.8)
    )
    # Partials run beside the audio path: feed at real-time pace so they can finish (on a
    # busy machine the utterance stays open, in a pause, until one has).
    events, (final, again) = feed_in_pieces(
        stream, as_16k(clip), pace=0.1, then=("commit", "commit"), until=bool
    )
    assert events, "expected partial transcripts while the speaker talks"
    assert all(e.kind is StreamEventKind.PARTIAL for e in events)
    # A partial is a prefix-in-progress of the sentence, not something else.
    assert set(words_of(events[0].transcript.reveal().text)) <= set(words_of(sentence))
    assert final.kind is StreamEventKind.COMMITTED
    assert words_of(final.transcript.reveal().text) == words_of(sentence)
    # After a commit the buffer is empty: a second commit has nothing to say.
    assert again.transcript.reveal().text == ""


def test_close_commits_pending_speech(whisper: WhisperTranscriber) -> None:
    words = random_phrase(3, seed=5)
    stream = whisper.open_stream(StreamOptions(language="en", partial_interval=0))
    clip = speak(" ".join(words) + ".")
    fed, events = feed_in_pieces(
        stream, as_16k(join(silence(0.3, clip.rate), clip)), then=("close",)
    )
    assert fed == []
    assert [words_of(e.transcript.reveal().text) for e in events] == [words]


def test_an_aborted_stream_drops_pending_speech_without_decoding_it(
    whisper: WhisperTranscriber,
) -> None:
    clip = speak("The nurse will call you back after lunch to confirm the appointment.")
    talking = as_16k(clip)[: int(16000 * clip.duration * 0.6)]  # cut off mid-sentence
    stream = whisper.open_stream(StreamOptions(language="en", partial_interval=0))
    fed, _ = feed_in_pieces(stream, talking)
    assert fed == []
    before = whisper.pool.started

    async def abort() -> None:
        await stream.abort()  # type: ignore[attr-defined]

    anyio.run(abort)
    # Closing would decode what was said so far; aborting leaves the workers to live sessions.
    assert (whisper.pool.started, whisper.pool.waiting) == (before, 0)


class DecodeLog:
    """Wraps the real engine's decoder and notes how much audio each decode was given (and the
    very samples of each decode made with the commit settings), optionally taking ``delay``
    seconds longer, as on a slower machine."""

    def __init__(self, whisper: WhisperTranscriber, delay: float = 0.0) -> None:
        self.delay = delay
        self.seconds: list[float] = []
        self.finals: list[np.ndarray] = []
        self._decode = whisper.transcribe_array

    def __call__(self, samples: np.ndarray, **kwargs: object) -> object:
        self.seconds.append(samples.size / 16000)
        options = kwargs["options"]
        if options.condition_on_previous_text:  # type: ignore[attr-defined]  # commit settings
            self.finals.append(samples.copy())
        time.sleep(self.delay)
        return self._decode(samples, **kwargs)  # type: ignore[arg-type]


def test_the_commit_is_decoded_as_soon_as_the_speaker_pauses(
    whisper: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentence = "Please bring the blue jacket to the garden party tomorrow."
    clip = speak(sentence)
    log = DecodeLog(whisper)
    monkeypatch.setattr(whisper, "transcribe_array", log)
    stream = whisper.open_stream(
        StreamOptions(language="en", silence_seconds=1.5, partial_interval=0)
    )
    audio = as_16k(join(silence(0.3, clip.rate), clip, silence(2.0, clip.rate)))
    events, _ = feed_in_pieces(stream, audio, pace=0.01)
    committed = [e for e in events if e.kind is StreamEventKind.COMMITTED]
    assert [words_of(e.transcript.reveal().text) for e in committed] == [words_of(sentence)]
    # One decode, and it began well before the 1.5 s of silence that ends the utterance ran
    # out: it held the speech and a fraction of a second of the pause, not the whole pause.
    assert len(log.seconds) == 1
    assert log.seconds[0] < 0.3 + clip.duration + 0.8


def test_a_pause_shorter_than_the_commit_silence_does_not_split_the_utterance(
    whisper: WhisperTranscriber,
) -> None:
    first, second = "Good morning.", "The nurse will call you back after lunch today."
    a, b = speak(first), speak(second)
    audio = as_16k(join(a, silence(0.7, a.rate), b, silence(1.6, a.rate)))
    stream = whisper.open_stream(
        StreamOptions(language="en", silence_seconds=1.2, partial_interval=0.5)
    )
    # Real-time pace: the decode started in the short pause is still running when speech
    # resumes. On a quiet machine it is done (stale) long before the second half ends; on a busy
    # one the feeding waits for it 1 s into the second half, so that its partial comes before
    # the commit whatever the machine's load.
    events, _ = feed_in_pieces(stream, audio, pace=0.1, settle_at=a.duration + 1.7)
    committed = [e for e in events if e.kind is StreamEventKind.COMMITTED]
    assert [words_of(e.transcript.reveal().text) for e in committed] == [
        words_of(first) + words_of(second)
    ]
    # The decode of the first half came back as a partial, before the commit.
    kinds = [e.kind for e in events]
    assert kinds[-1] is StreamEventKind.COMMITTED
    assert StreamEventKind.PARTIAL in kinds


@pytest.mark.parametrize("ending", ["pause", "close"])
def test_the_commit_decodes_the_same_samples_however_the_audio_arrives(
    whisper: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """The committed window is a function of the audio: not of how it was cut into messages,
    nor of whether the decode ahead of the commit was ready in time (a slow machine)."""
    clip = speak("Good morning.")
    # A pause long enough to commit (1.2 s > 0.8 s), or one the session's close cuts short.
    pause = silence(1.2 if ending == "pause" else 0.5, clip.rate)
    audio = as_16k(join(silence(0.3, clip.rate), clip, pause))
    committed: list[np.ndarray] = []
    texts: list[str] = []
    # 0.1 s pieces: decoded ahead of the commit, once 0.2 s of the pause are in. One piece:
    # the whole pause arrives before any decode can start. Odd pieces on a slow machine: the
    # decode ahead of the commit starts at another point of the pause and ends late.
    for piece, delay in ((0.1, 0.0), (audio.size / 16000, 0.0), (0.37, 0.3)):
        with monkeypatch.context() as patched:
            log = DecodeLog(whisper, delay)
            patched.setattr(whisper, "transcribe_array", log)
            stream = whisper.open_stream(
                StreamOptions(language="en", silence_seconds=0.8, partial_interval=0)
            )
            events, closing = feed_in_pieces(stream, audio, piece=piece, then=("close",))
        [event] = [e for e in events + closing if e.kind is StreamEventKind.COMMITTED]
        assert log.finals, "no decode with the commit settings"
        committed.append(log.finals[-1])
        texts.append(event.transcript.reveal().text)
    first = committed[0]
    assert all(np.array_equal(first, other) for other in committed[1:]), [
        c.size / 16000 for c in committed
    ]
    # The speech and a fraction of the pause: not the whole pause.
    assert first.size / 16000 < 0.3 + clip.duration + 0.3
    assert texts == [texts[0]] * len(texts)
    assert words_of(texts[0]) == ["good", "morning"]


def test_a_session_waiting_for_its_commit_counts_as_behind(
    whisper: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its audio queues while the commit decodes: the pool's backlog says for how long (what
    admission control reads), though no decode waits for a worker."""
    clip = speak("Please bring the blue jacket to the garden party tomorrow.")
    monkeypatch.setattr(whisper, "transcribe_array", DecodeLog(whisper, delay=1.0))
    stream = whisper.open_stream(StreamOptions(language="en", partial_interval=0))
    fed, _ = feed_in_pieces(stream, as_16k(join(silence(0.3, clip.rate), clip)))
    assert fed == []
    seen: list[float] = []

    async def commit_and_watch() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stream.commit)
            with anyio.move_on_after(60):
                while whisper.pool.backlog_s() < 0.5:
                    await anyio.sleep(0.02)
            seen.append(whisper.pool.backlog_s())

    anyio.run(commit_and_watch)
    assert seen[0] >= 0.5
    assert (whisper.pool.waiting, whisper.pool.backlog_s()) == (0, 0.0)
