"""The voices a request may speak with: the built-in table and the workspace's own voices.

Built-in voices (``engines/voices.py``) are data. A workspace's voices (designed, or matched to
its samples) live sealed in the database; their ids start with ``voice_`` and each is a
recipe (:mod:`voice_recipe`: a built-in base voice, a Kokoro pack for a blend, pitch and formant
shaping), fetched when the speech starts and spoken by the base voice's engine, shaped. Another
workspace's voice id is an unknown voice. Listing, getting and deleting them is here too;
designing them is in ``voice_design.py``, matching them in ``voice_matching.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import anyio
from sqlalchemy.orm import Session

from sottovoce.audio.shaping import UNSHAPED, Shaping, shape_pcm
from sottovoce.engines.base import AudioChunk
from sottovoce.engines.registry import EngineRegistry
from sottovoce.engines.voices import DEFAULT_VOICES, KOKORO, Voice
from sottovoce.errors import NotFound, UnknownVoice, VoiceNotReady
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voice_recipe
from sottovoce.services.context import RequestContext
from sottovoce.store import voices as store
from sottovoce.store.voices import StoredVoice

WORKSPACE_PREFIX = "voice_"
WORKSPACE_CATEGORY = "workspace"


@dataclass(frozen=True)
class SpokenVoice:
    """A voice ready to speak: the voice, and a style pack when it is a workspace's own."""

    voice: Voice
    style: Sensitive[bytes] | None = None
    speed: float = 1.0
    """The voice's own pace (a designed voice may be slower or faster), times the request's."""
    shaping: Shaping = UNSHAPED
    """Pitch and formant shaping of its audio (a matched voice's), applied to every chunk."""

    @property
    def history_name(self) -> str | None:
        """The name kept in clear with a history item: a workspace voice's name is content."""
        return None if is_workspace_voice(self.voice.voice_id) else self.voice.name


def is_workspace_voice(voice_id: str | None) -> bool:
    return bool(voice_id) and str(voice_id).startswith(WORKSPACE_PREFIX)


def available(engines: EngineRegistry) -> list[Voice]:
    """The built-in voices whose engine this server runs."""
    return [v for v in DEFAULT_VOICES.voices if engines.knows(v.model_id)]


def choose(voice_id: str | None) -> Voice:
    """The voice for an id (no I/O): a built-in voice, or a workspace voice to be fetched when
    the speech starts (:func:`ready`). ``UnknownVoice`` for anything else."""
    builtin = DEFAULT_VOICES.find(voice_id)
    if builtin is not None:
        return builtin
    if voice_id is not None and is_workspace_voice(voice_id) and len(voice_id) <= 40:
        return Voice(voice_id=voice_id, name="", model_id=KOKORO, category=WORKSPACE_CATEGORY)
    raise UnknownVoice(fields=("voice_id",))


async def ready(ctx: RequestContext, voice: Voice) -> SpokenVoice:
    """The voice with what it needs to speak; a workspace voice's pack from the database."""
    if voice.category != WORKSPACE_CATEGORY:
        return SpokenVoice(voice)
    workspace_id = ctx.workspace.id

    def fetch(session: Session) -> tuple[StoredVoice, Sensitive[bytes] | None]:
        return store.get(session, workspace_id, voice.voice_id), store.pack(
            session, workspace_id, voice.voice_id
        )

    try:
        stored, pack = await ctx.run_in_session(fetch)
    except NotFound:
        raise UnknownVoice(fields=("voice_id",)) from None
    if pack is None:
        raise VoiceNotReady(fields=("voice_id",))
    try:
        recipe = voice_recipe.from_bytes(pack.reveal())
    except ValueError:
        raise VoiceNotReady(fields=("voice_id",)) from None
    base = recipe.base
    if not ctx.engines.knows(base.model_id):
        raise UnknownVoice(fields=("voice_id",))
    named = replace(
        voice,
        name=stored.meta.reveal().name,
        category=stored.category,
        model_id=base.model_id,
        engine_voice=base.engine_voice,
    )
    style = Sensitive(recipe.pack) if recipe.pack is not None else None
    return SpokenVoice(named, style, stored.speed, recipe.shaping)


async def shaped(chunks: AsyncIterator[AudioChunk], shaping: Shaping) -> AsyncIterator[AudioChunk]:
    """An engine's chunks with the voice's shaping applied (off the event loop), each as long
    as it was, so alignments stay true."""
    async for chunk in chunks:
        if shaping.neutral:
            yield chunk
            continue
        pcm = await anyio.to_thread.run_sync(
            shape_pcm, chunk.pcm.reveal(), chunk.sample_rate, shaping
        )
        yield replace(chunk, pcm=Sensitive(pcm))


async def get(ctx: RequestContext, voice_id: str) -> StoredVoice:
    """One of the workspace's voices (``NotFound`` for another workspace's)."""
    workspace_id = ctx.workspace.id
    try:
        return await ctx.run_in_session(lambda s: store.get(s, workspace_id, voice_id))
    except NotFound:
        raise UnknownVoice(fields=("voice_id",)) from None


async def listing(ctx: RequestContext) -> list[StoredVoice]:
    workspace_id = ctx.workspace.id
    return await ctx.run_in_session(lambda s: store.list_all(s, workspace_id))


async def delete(ctx: RequestContext, voice_id: str) -> None:
    """Delete a workspace voice, its samples and its key, at once."""
    workspace_id = ctx.workspace.id
    try:
        await ctx.run_in_session(lambda s: store.delete(s, workspace_id, voice_id))
    except NotFound:
        raise UnknownVoice(fields=("voice_id",)) from None
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)


@dataclass(frozen=True)
class ListedVoice:
    """A voice as every listing shows it, built-in or the workspace's own."""

    voice_id: str
    name: str
    category: str
    """``premade``, ``cloned`` or ``generated``."""
    model_id: str
    description: str | None
    labels: dict[str, str]
    """What a listing says about it: gender, age, accent, language, engine, licence..."""
    status: str = "fine_tuned"
    progress: float = 1.0
    error_code: str | None = None
    created_at_ms: int | None = None
    sample_count: int = 0
    is_owner: bool = False

    @property
    def gender(self) -> str:
        return self.labels.get("gender", "")

    @property
    def language(self) -> str:
        return self.labels.get("language", "en")


ENGINE_LICENCES = {
    "local/piper": ("Piper", "GPL-3.0"),
    "local/hibari": ("hibari", "Apache-2.0"),
    "local/kokoro": ("Kokoro-82M", "Apache-2.0"),
}


def listed_builtin(voice: Voice) -> ListedVoice:
    engine, engine_licence = ENGINE_LICENCES.get(voice.model_id, (voice.model_id, ""))
    labels = {
        "gender": voice.gender,
        "age": voice.age,
        "accent": voice.accent,
        "language": voice.language,
        "description": voice.description,
        "engine": engine,
        "engine_licence": engine_licence,
        "licence": voice.licence,
        "use_case": "general",
    }
    return ListedVoice(
        voice.voice_id, voice.name, voice.category, voice.model_id, voice.description, labels
    )


def listed_stored(voice: StoredVoice) -> ListedVoice:
    meta = voice.meta.reveal()
    # The model that speaks it: Kokoro for a designed voice or a blend, else the built-in
    # voice's engine a match started from.
    engine, engine_licence = ENGINE_LICENCES.get(voice.model_id, ENGINE_LICENCES[KOKORO])
    labels = {
        "language": "en",
        **{k: str(v) for k, v in meta.labels.items() if v is not None},
        "engine": engine,
        "engine_licence": engine_licence,
        "licence": f"derived from your own samples or description; {engine} {engine_licence}",
        "method": "approximate voice matching" if voice.category == "cloned" else "pack design",
    }
    return ListedVoice(
        voice_id=voice.id,
        name=meta.name,
        category=voice.category,
        model_id=voice.model_id,
        description=meta.description,
        labels=labels,
        status=voice.status.value,
        progress=voice.progress,
        error_code=voice.error_code,
        created_at_ms=voice.created_at_ms,
        sample_count=voice.sample_count,
        is_owner=True,
    )


async def catalogue(ctx: RequestContext) -> list[ListedVoice]:
    """Every voice this workspace may speak with: built-in first, then its own, oldest first."""
    own = await listing(ctx) if ctx.engines.knows(KOKORO) else []
    return [listed_builtin(v) for v in available(ctx.engines)] + [listed_stored(v) for v in own]


async def find(ctx: RequestContext, voice_id: str) -> ListedVoice:
    """One voice by its exact id (or a built-in one's alias); ``UnknownVoice`` else."""
    if is_workspace_voice(voice_id):
        return listed_stored(await get(ctx, voice_id))
    voice = DEFAULT_VOICES.get(voice_id) or DEFAULT_VOICES.find(voice_id)
    if voice is None or not ctx.engines.knows(voice.model_id):
        raise UnknownVoice(fields=("voice_id",))
    return listed_builtin(voice)
