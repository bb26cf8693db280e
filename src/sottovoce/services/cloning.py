"""Adding a voice from samples (ElevenLabs ``/v1/voices/add``, Cartesia ``/voices/clone``).

The request checks and keeps the samples (decoded once here, so a corrupt or overlong file is a
422 or 413 at once, with nothing stored), creates the voice, sealed, with the state ``queued``,
and hands it to the matching jobs (:mod:`sottovoce.services.voice_matching`), which make it
usable minutes later. Never under zero retention: the samples must be kept to make the voice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
from sqlalchemy.orm import Session

from sottovoce.audio.decode import decode_audio
from sottovoce.engines.voices import KOKORO
from sottovoce.errors import AudioTooLong, EngineUnavailable, InvalidRequest
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.voice_matching import MatchingJobs
from sottovoce.store import voices as store
from sottovoce.store.voices import NewSample, NewVoice, VoiceMeta, VoiceStatus

MIN_SECONDS = 1.0
"""Least audio, all samples together, to match a voice to."""


@dataclass(frozen=True)
class CloneAsk:
    name: Sensitive[str]
    samples: tuple[NewSample, ...]
    description: Sensitive[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    flags: RequestFlags = field(default_factory=RequestFlags)
    samples_field: str = "files"


async def add_voice(ctx: RequestContext, ask: CloneAsk, jobs: MatchingJobs) -> str:
    """Keep the samples, create the voice (queued) and start matching it; its id."""
    if not ctx.engines.knows(KOKORO):
        raise EngineUnavailable("Voice matching needs the Kokoro engine, which is switched off.")
    engine = ctx.engines.synthesizer(KOKORO)
    ctx.usage.model_id = engine.info.model_id
    ctx.decide(ask.flags, Route(engine.info.provider, Mode.SYNC))
    settings = ctx.settings.voices
    if not ask.name.reveal().strip():
        raise InvalidRequest("The voice needs a name.", fields=("name",))
    if not ask.samples:
        raise InvalidRequest("Send at least one sample.", fields=(ask.samples_field,))
    if len(ask.samples) > settings.max_samples:
        raise InvalidRequest(
            f"A voice takes at most {settings.max_samples} samples.", fields=(ask.samples_field,)
        )
    limit = settings.max_sample_seconds

    def seconds() -> float:
        return sum(decode_audio(s.audio, max_seconds=limit).duration for s in ask.samples)

    total = await anyio.to_thread.run_sync(seconds)
    if total > limit:
        raise AudioTooLong(f"The samples last more than {limit:g} s together.")
    if total < MIN_SECONDS:
        raise InvalidRequest(
            f"The samples last less than {MIN_SECONDS:g} s together.", fields=(ask.samples_field,)
        )
    ctx.usage.add_input(round(total, 3), "audio_seconds")
    description = ask.description.reveal() if ask.description is not None else None
    voice = NewVoice(
        workspace_id=ctx.workspace.id,
        category="cloned",
        model_id=engine.info.model_id,
        meta=Sensitive(VoiceMeta(ask.name.reveal(), description, dict(ask.labels))),
        samples=ask.samples,
        status=VoiceStatus.QUEUED,
    )
    most = settings.max_workspace_voices

    def create(session: Session) -> str:
        if store.count(session, ctx.workspace.id) >= most:
            raise InvalidRequest(f"A workspace keeps at most {most} voices.", fields=("name",))
        return store.create(session, voice)

    voice_id = await ctx.run_in_session(create)
    ctx.usage.content_retained = True
    jobs.submit(ctx.workspace.id, voice_id)
    return voice_id
