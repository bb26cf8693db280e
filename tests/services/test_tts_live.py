"""TTS sessions in-process: utterances (contexts) that speak text as it arrives, stop within one
engine piece when cancelled, and each leave their own usage record; decisions taken once."""

from __future__ import annotations

import anyio
import pytest

from sottovoce.api.elevenlabs.formats import output_format
from sottovoce.errors import TooManyContexts, UnknownVoice
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import AlreadyDecided, RequestContext
from sottovoce.services.events import Audio, Done, Event, Flushed
from sottovoce.services.tts import SpeechAsk
from sottovoce.services.tts_live import BufferPolicy, TtsSession
from sottovoce.store import history, usage
from sottovoce.store.history import HistoryFilter
from tests.services.conftest import ContextFactory

ASK = SpeechAsk(output=output_format("pcm_16000"), voice_id="joe")
LONG = "This sentence keeps the engine busy for a while. " * 10


def records(ctx: RequestContext) -> list[usage.UsageRecord]:
    with ctx.services.store.session() as session:
        return usage.query(session, ctx.workspace.id)


def kept(ctx: RequestContext) -> list[history.HistoryItem]:
    with ctx.services.store.session() as session:
        return history.list_page(session, ctx.workspace.id, HistoryFilter()).items


def test_each_utterance_speaks_what_arrives_and_leaves_its_own_record(
    make_context: ContextFactory,
) -> None:
    ctx = make_context(Product.TTS)
    ctx.decide(RequestFlags())
    seen: list[tuple[str, Event]] = []

    async def emit(key: str, event: Event) -> None:
        seen.append((key, event))

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            session = TtsSession(ctx, tasks, emit, max_contexts=2)
            a = await session.open("a", ASK, BufferPolicy(), inherit_decision=True)
            b = await session.open("b", ASK, BufferPolicy(), inherit_decision=True)
            a.push(Sensitive("Good morning, "))
            b.push(Sensitive("Hello there."), flush=True)
            a.push(Sensitive("and welcome."))
            with pytest.raises(TooManyContexts):
                await session.open("c", ASK, BufferPolicy(), inherit_decision=True)
            a.end()
            b.end()

    anyio.run(run)
    for key, text in (("a", "Good morning, and welcome."), ("b", "Hello there.")):
        events = [e for k, e in seen if k == key]
        assert isinstance(events[-1], Done)
        assert sum(len(e.data.reveal()) for e in events if isinstance(e, Audio)) > 16000
        aligned = "".join(c for e in events if isinstance(e, Audio) and e.alignment
                          for c, _, _ in e.alignment.reveal())  # fmt: skip
        assert aligned == text
    assert [e for k, e in seen if k == "b" and isinstance(e, Flushed)] == [Flushed(1)]
    # One record per utterance (and the refused third), with its own characters and audio.
    spoken = sorted((r for r in records(ctx) if r.outcome == "ok"), key=lambda r: r.input_units)
    assert [r.input_units for r in spoken] == [12, 26]
    assert all(r.output_units > 0.5 and r.content_retained for r in spoken)
    assert [r.error_code for r in records(ctx) if r.outcome == "error"] == ["too_many_contexts"]
    # Each utterance is one history item: its whole text.
    assert sorted(item.text.reveal() for item in kept(ctx) if item.text) == [
        "Good morning, and welcome.",
        "Hello there.",
    ]


def test_cancel_stops_within_one_engine_piece_and_keeps_nothing(
    make_context: ContextFactory,
) -> None:
    ctx = make_context(Product.TTS)
    ctx.decide(RequestFlags())
    after_cancel: list[Event] = []
    cancelled = anyio.Event()

    async def emit(key: str, event: Event) -> None:
        if cancelled.is_set():
            after_cancel.append(event)
        elif isinstance(event, Audio) and event.data:
            cancelled.set()

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            session = TtsSession(ctx, tasks, emit, max_contexts=1)
            utterance = await session.open("a", ASK, BufferPolicy(), inherit_decision=True)
            utterance.push(Sensitive(LONG))
            utterance.end()
            await cancelled.wait()
            utterance.cancel()  # from another task, as a client's cancel message is
            await utterance.finished.wait()

    anyio.run(run)
    # The piece being synthesized when the cancel came may still go out; nothing after it.
    assert len([e for e in after_cancel if isinstance(e, Audio)]) <= 1
    assert not any(isinstance(e, Done) for e in after_cancel)
    [record] = records(ctx)
    assert record.outcome == "cancelled" and not record.content_retained
    assert 0 < record.output_units < 5  # what was sent is metered; the text held 20+ s
    assert kept(ctx) == []


def test_a_buffer_delay_lets_waiting_text_go(make_context: ContextFactory) -> None:
    ctx = make_context(Product.TTS)
    ctx.decide(RequestFlags(enable_logging=False))
    seen: list[Event] = []

    async def emit(key: str, event: Event) -> None:
        seen.append(event)

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            session = TtsSession(ctx, tasks, emit, max_contexts=1)
            policy = BufferPolicy(max_delay_s=0.05)
            utterance = await session.open("a", ASK, policy, inherit_decision=True)
            utterance.push(Sensitive("no clause ends here"))
            with anyio.fail_after(60):  # no flush, no end: only the delay lets it go
                while not any(isinstance(e, Audio) and e.data for e in seen):
                    await anyio.sleep(0.01)
            utterance.end()

    anyio.run(run)
    assert isinstance(seen[-1], Done)
    [record] = records(ctx)
    assert record.zero_retention and not record.content_retained
    assert kept(ctx) == []


def test_contexts_decide_once_inherited_or_their_own(make_context: ContextFactory) -> None:
    socket = make_context(Product.TTS, zdr=True)
    socket.decide(RequestFlags())
    inherited = socket.child(inherit_decision=True)
    assert inherited.decision == socket.decision and inherited.usage.zero_retention
    with pytest.raises(AlreadyDecided):
        inherited.decide(RequestFlags())
    own = socket.child(inherit_decision=False)
    assert not own.decided
    assert own.decide(RequestFlags()).zero_retention  # workspace ZDR still wins
    with pytest.raises(AlreadyDecided):
        own.decide(RequestFlags())


def test_a_refused_context_is_metered_as_an_error(make_context: ContextFactory) -> None:
    ctx = make_context(Product.TTS)
    ctx.decide(RequestFlags())

    async def emit(key: str, event: Event) -> None:
        raise AssertionError("nothing to emit")

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            session = TtsSession(ctx, tasks, emit, max_contexts=1)
            bad = SpeechAsk(output=ASK.output, voice_id="nobody")
            with pytest.raises(UnknownVoice):
                await session.open("a", bad, BufferPolicy(), inherit_decision=False)

    anyio.run(run)
    [record] = records(ctx)
    assert (record.outcome, record.status_code, record.error_code) == (
        "error",
        404,
        "voice_not_found",
    )
