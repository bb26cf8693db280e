"""Voice design: a voice from a description, by arithmetic on Kokoro's style packs.

The description's words steer a point in the space of the shipped packs
(:mod:`sottovoce.engines.kokoro_packs`): gender words (``woman``, ``male``...) set the position
on the female/male axis, pitch words (``deep``, ``high``...) move it further, age words
(``young``, ``old``...) nudge pitch and pace, pace words (``fast``, ``slow``, ``calm``...) set
the speaking rate; each preview draws a different blend of the female packs as the voice's
identity (seeded, so previews are reproducible). Words it does not know change nothing: this
is steering by keywords, not understanding. A preview's ``generated_voice_id`` encodes its
numbers (never the description), so nothing is stored until a preview is saved with
``POST /v1/text-to-voice``; then the voice keeps its description (sealed) like any voice.

Never under zero retention: a designed voice keeps its description by nature.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

import anyio
import numpy as np
from sqlalchemy.orm import Session

from sottovoce.audio.encode import encode_all
from sottovoce.audio.formats import OutputFormat
from sottovoce.engines.kokoro import KokoroSynthesizer
from sottovoce.engines.kokoro_packs import FEMALE, PACK_NAMES, Pack, PackSpace, to_bytes
from sottovoce.engines.pieces import to_pcm16
from sottovoce.engines.voices import KOKORO
from sottovoce.errors import EngineUnavailable, InvalidRequest, UnknownVoice
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.store import voices as store
from sottovoce.store.voices import NewVoice, VoiceMeta

PREVIEWS = 3
AUTO_TEXT = (
    "Hello! This is a preview of a voice designed on this server. It speaks every word "
    "clearly, at an easy pace, so you can judge how it sounds before you keep it."
)
MAX_TEXT = 1000
PREFIX = "gv_"

_WORDS: dict[str, tuple[str, float]] = {
    **dict.fromkeys(("male", "man", "men", "masculine", "boy", "guy", "gentleman", "he",
                     "his", "father", "grandfather", "husband"), ("gender", 1.0)),
    **dict.fromkeys(("female", "woman", "women", "feminine", "girl", "lady", "she", "her",
                     "mother", "grandmother", "wife"), ("gender", 0.0)),
    **dict.fromkeys(("deep", "low", "bass", "baritone", "gravelly", "husky", "booming"),
                    ("pitch", 0.18)),
    **dict.fromkeys(("high", "bright", "squeaky", "soprano", "light", "thin"), ("pitch", -0.15)),
    **dict.fromkeys(("young", "youthful", "teen", "teenage", "child", "kid"), ("age", -1.0)),
    **dict.fromkeys(("old", "elderly", "aged", "mature", "senior", "older"), ("age", 1.0)),
    **dict.fromkeys(("fast", "quick", "energetic", "excited", "rapid", "lively"), ("pace", 1.12)),
    **dict.fromkeys(("slow", "calm", "relaxed", "soothing", "gentle", "measured"), ("pace", 0.9)),
}  # fmt: skip


@dataclass(frozen=True)
class DesignParams:
    """A designed voice as numbers: where it sits and how fast it speaks."""

    gender: float
    """0: the female packs' blend, 1: the male pack's pitch (beyond: lower)."""
    identity: tuple[float, ...]
    """Weights of the female packs' blend (they sum to 1)."""
    speed: float = 1.0

    def pack(self, space: PackSpace) -> Pack:
        params = np.zeros(2 * len(PACK_NAMES))
        for weight, name in zip(self.identity, FEMALE, strict=True):
            index = PACK_NAMES.index(name)
            params[index] = params[len(PACK_NAMES) + index] = weight
        return space.shifted(space.blend(params), self.gender)

    def to_id(self) -> str:
        numbers = [round(self.gender, 4), [round(w, 4) for w in self.identity], self.speed]
        return PREFIX + base64.urlsafe_b64encode(json.dumps(numbers).encode()).decode()

    @classmethod
    def from_id(cls, generated_voice_id: str) -> DesignParams:
        try:
            raw = base64.urlsafe_b64decode(generated_voice_id.removeprefix(PREFIX).encode())
            gender, identity, speed = json.loads(raw)
            params = cls(float(gender), tuple(float(w) for w in identity), float(speed))
        except (ValueError, TypeError):
            raise UnknownVoice(fields=("generated_voice_id",)) from None
        if (
            not generated_voice_id.startswith(PREFIX)
            or len(params.identity) != len(FEMALE)
            or not -0.5 <= params.gender <= 1.6
            or not 0.5 <= params.speed <= 2.0
            or any(not 0 <= w <= 1 for w in params.identity)
        ):
            raise UnknownVoice(fields=("generated_voice_id",))
        return params


def steer(description: str, seed: int) -> DesignParams:
    """The numbers a description's words ask for; ``seed`` picks the identity blend."""
    gender, pitch, age, pace = 0.5, 0.0, 0.0, 1.0
    genders: list[float] = []
    for word in re.findall(r"[a-z]+", description.lower()):
        kind, value = _WORDS.get(word, ("", 0.0))
        if kind == "gender":
            genders.append(value)
        elif kind == "pitch":
            pitch += value
        elif kind == "age":
            age += value
        elif kind == "pace":
            pace *= value
    if genders:
        # A male voice sits at the male pack's pitch; a female one a little above the blend.
        gender = 0.95 if np.mean(genders) >= 0.5 else 0.05
    gender += pitch + 0.06 * np.clip(age, -1, 1)
    pace *= 1.0 - 0.05 * np.clip(age, -1, 1)
    rng = np.random.default_rng(seed)
    identity = rng.dirichlet(np.full(len(FEMALE), 0.7))
    return DesignParams(
        gender=float(np.clip(gender, -0.3, 1.5)),
        identity=tuple(float(w) for w in identity),
        speed=float(np.clip(pace, 0.7, 1.4)),
    )


@dataclass(frozen=True)
class Preview:
    generated_voice_id: str
    audio: Sensitive[bytes]
    duration: float


@dataclass(frozen=True)
class DesignAsk:
    description: Sensitive[str]
    output: OutputFormat
    text: Sensitive[str] | None = None
    seed: int | None = None
    flags: RequestFlags = field(default_factory=RequestFlags)


@dataclass(frozen=True)
class Design:
    previews: list[Preview]
    text: Sensitive[str]


def _kokoro(ctx: RequestContext) -> KokoroSynthesizer:
    if not ctx.engines.knows(KOKORO):
        raise EngineUnavailable("Voice design needs the Kokoro engine, which is switched off.")
    engine = ctx.engines.synthesizer(KOKORO)
    assert isinstance(engine, KokoroSynthesizer)
    return engine


def _decide(ctx: RequestContext, flags: RequestFlags, engine: KokoroSynthesizer) -> None:
    ctx.usage.model_id = engine.info.model_id
    ctx.decide(flags, Route(engine.info.provider, Mode.SYNC))


async def design(ctx: RequestContext, ask: DesignAsk) -> Design:
    """Previews of voices that fit a description (nothing is stored)."""
    engine = _kokoro(ctx)
    _decide(ctx, ask.flags, engine)
    description = ask.description.reveal()
    if not description.strip():
        raise InvalidRequest("The voice description is empty.", fields=("voice_description",))
    text = ask.text.reveal() if ask.text is not None else AUTO_TEXT
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidRequest(f"The text must have 1 to {MAX_TEXT} characters.", fields=("text",))
    ctx.usage.add_input(float(len(text)), "characters")
    base_seed = ask.seed if ask.seed is not None else int(np.random.default_rng().integers(1 << 30))
    previews = []
    for n in range(PREVIEWS):
        params = steer(description, base_seed + n)
        pack = params.pack(engine.space)
        audio = await anyio.to_thread.run_sync(engine.render, text, pack, params.speed)
        data = encode_all(ask.output, engine.sample_rate, [to_pcm16(audio, normalize=True)])
        previews.append(Preview(params.to_id(), Sensitive(data), audio.size / engine.sample_rate))
    ctx.usage.add_output(round(sum(p.duration for p in previews), 3), "audio_seconds")
    return Design(previews, Sensitive(text))


@dataclass(frozen=True)
class SaveAsk:
    name: Sensitive[str]
    description: Sensitive[str]
    generated_voice_id: str
    labels: dict[str, str] = field(default_factory=dict)
    flags: RequestFlags = field(default_factory=RequestFlags)


async def save(ctx: RequestContext, ask: SaveAsk) -> str:
    """Keep a preview as one of the workspace's voices; returns its voice id."""
    engine = _kokoro(ctx)
    _decide(ctx, ask.flags, engine)
    params = DesignParams.from_id(ask.generated_voice_id)
    if not ask.name.reveal().strip():
        raise InvalidRequest("The voice needs a name.", fields=("voice_name",))
    pack = params.pack(engine.space)
    meta = VoiceMeta(ask.name.reveal(), ask.description.reveal(), dict(ask.labels))
    voice = NewVoice(
        workspace_id=ctx.workspace.id,
        category="generated",
        model_id=engine.info.model_id,
        meta=Sensitive(meta),
        pack=Sensitive(to_bytes(pack)),
        speed=params.speed,
    )
    limit = ctx.settings.voices.max_workspace_voices

    def create(session: Session) -> str:
        if store.count(session, ctx.workspace.id) >= limit:
            raise InvalidRequest(f"A workspace keeps at most {limit} voices.", fields=("name",))
        return store.create(session, voice)

    voice_id = await ctx.run_in_session(create)
    ctx.usage.content_retained = True
    return voice_id
