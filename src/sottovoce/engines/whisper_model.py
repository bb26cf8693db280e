"""faster-whisper as sottovoce drives it: the two places that lean on its pinned internals.

Both save CPU that no request needs, and both depend on faster-whisper 1.2.1 (pinned) by name, so
they live here together, with the tests in ``tests/engines/test_whisper.py`` that catch an
upgrade that changes them.

**The speech cut** (:func:`speech_chunks`, :func:`join_speech`, :func:`restore_timestamps`).
faster-whisper's own VAD filter cuts audio down to its speech and decodes that; when there is no
speech at all it still runs Whisper's encoder on 30 s of padding to guess a language, about a
CPU-second per request. sottovoce runs the same Silero VAD with the same defaults itself, so it
can answer audio without speech without Whisper, then decodes only the speech and maps the
timestamps back with faster-whisper's function.

**One encoder pass** (:func:`model_class`). faster-whisper detects a language by running Whisper's
encoder on the first window, throws that output away, and runs the encoder on the same window
again to decode it. The encoder is most of a short request's cost (it always sees 30 s, padded):
for two seconds of speech with no language given, base spent 2.8 CPU-s where 1.7 would do.
:func:`model_class` returns a subclass that keeps the detection's encoder output for the decode
of that window:

- detection encodes exactly the window the decoder starts with (the frames ``generate_segments``
  takes at seek 0, padded), so the transcript is the one the language given would produce;
- the output is kept per thread (decodes run on several worker threads, one model) and only
  inside one ``transcribe`` call, from ``detect_language`` to ``generate_segments``: it is
  audio-derived content, and nothing of a request may outlive it, even in memory.

The subclass touches three methods by name; a test checks that one encoder pass is made and that
the words match a decode with the language given.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sottovoce.audio.pcm import FloatArray

SAMPLE_RATE = 16_000


def speech_chunks(samples: FloatArray) -> list[dict[str, int]]:
    """Where the Silero VAD hears speech (sample offsets), with faster-whisper's defaults."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks: list[dict[str, int]] = get_speech_timestamps(samples, VadOptions())
    return chunks


def join_speech(samples: FloatArray, chunks: list[dict[str, int]]) -> FloatArray:
    """The speech of ``samples`` alone, chunk after chunk (what Whisper is given to decode)."""
    joined: FloatArray = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
    return joined


def restore_timestamps(segments: Iterable[Any], chunks: list[dict[str, int]]) -> Iterable[Any]:
    """faster-whisper's segments of :func:`join_speech`'s audio, timed in the original audio."""
    from faster_whisper.transcribe import restore_speech_timestamps

    restored: Iterable[Any] = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
    return restored


@functools.cache
def model_class() -> type[Any]:
    """The :class:`faster_whisper.WhisperModel` subclass (faster-whisper is imported on first
    use: it loads ctranslate2 and onnxruntime)."""
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    class OneEncoderPassWhisper(WhisperModel):  # type: ignore[misc]
        _first = threading.local()

        def transcribe(self, *args: Any, **kwargs: Any) -> Any:
            # The decode's generator holds the output from here on: the thread keeps nothing
            # of this request once the call returns, or fails between detection and decoding.
            self._first.output = None
            try:
                return super().transcribe(*args, **kwargs)
            finally:
                self._first.output = None

        def detect_language(
            self,
            audio: Any = None,
            features: Any = None,
            vad_filter: bool = False,
            vad_parameters: Any = None,
            language_detection_segments: int = 1,
            language_detection_threshold: float = 0.5,
        ) -> tuple[str, float, list[tuple[str, float]]]:
            if audio is not None or features is None or language_detection_segments != 1:
                result: tuple[str, float, list[tuple[str, float]]] = super().detect_language(
                    audio,
                    features,
                    vad_filter,
                    vad_parameters,
                    language_detection_segments,
                    language_detection_threshold,
                )
                return result
            # The decoder's first window: content frames (the last one is padding), at most 30 s.
            frames = min(features.shape[-1] - 1, self.feature_extractor.nb_max_frames)
            encoded = self.encode(pad_or_trim(features[..., :frames]))
            self._first.output = encoded
            probabilities = [
                (token[2:-2], probability)
                for token, probability in self.model.detect_language(encoded)[0]
            ]
            # One window: faster-whisper takes its top language whatever the threshold.
            language, probability = probabilities[0]
            return language, probability, probabilities

        def generate_segments(
            self,
            features: Any,
            tokenizer: Any,
            options: Any,
            log_progress: Any,
            encoder_output: Any = None,
        ) -> Any:
            kept, self._first.output = getattr(self._first, "output", None), None
            if encoder_output is None:
                encoder_output = kept
            return super().generate_segments(
                features, tokenizer, options, log_progress, encoder_output
            )

    return OneEncoderPassWhisper
