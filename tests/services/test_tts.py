"""The TTS product: a whole text, or text that arrives over time; events out, history once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from sottovoce.api.elevenlabs.formats import output_format
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Audio, Done, Event, Failed
from sottovoce.services.tts import Speech, SpeechAsk
from sottovoce.store import history
from sottovoce.store.history import HistoryFilter
from tests.services.conftest import ContextFactory

PCM = output_format("pcm_16000")


def speech(make_context: ContextFactory, flags: RequestFlags | None = None) -> Speech:
    ctx = make_context(Product.TTS)
    return Speech(ctx, SpeechAsk(output=PCM, voice_id="joe", flags=flags or RequestFlags()))


def audio_of(events: list[Event]) -> bytes:
    return b"".join(e.data.reveal() for e in events if isinstance(e, Audio))


def test_a_whole_text_gives_audio_then_done(make_context: ContextFactory) -> None:
    tts = speech(make_context)

    async def run() -> list[Event]:
        return [e async for e in tts.speak(Sensitive("Hello there, my friend."))]

    events = anyio.run(run)
    assert isinstance(events[-1], Done)
    assert len(audio_of(events)) > 16000  # more than half a second at 16 kHz
    assert tts.ctx.usage.input_units == len("Hello there, my friend.")
    assert tts.ctx.usage.output_unit == "audio_seconds"


@pytest.mark.parametrize("text", [None, "   ", "x" * 5001])
def test_an_empty_or_too_long_text_is_refused_before_synthesis(
    make_context: ContextFactory, text: str | None
) -> None:
    tts = speech(make_context)
    with pytest.raises(InvalidRequest):
        tts.speak(Sensitive(text) if text is not None else None)
    assert tts.ctx.usage.output_units == 0


def test_text_arriving_over_time_is_spoken_before_it_has_all_arrived(
    make_context: ContextFactory,
) -> None:
    """The first clause is synthesized while the rest of the text is still being written: the
    text source only sends its second half once audio for the first has come out."""
    tts = speech(make_context)
    first_audio = anyio.Event()
    sent: list[str] = []

    async def pieces() -> AsyncIterator[Sensitive[str]]:
        for piece in ("Good morning", ", and welcome", " to the clinic. "):
            sent.append(piece)
            yield Sensitive(piece)
        with anyio.fail_after(30):  # fails, rather than hangs, if audio waited for the end
            await first_audio.wait()
        for piece in ("Please take", " a seat."):
            sent.append(piece)
            yield Sensitive(piece)

    async def run() -> tuple[list[Event], int]:
        events: list[Event] = []
        sent_at_first_audio = -1
        async for event in tts.speak_stream(pieces()):
            if isinstance(event, Audio) and event.data and not first_audio.is_set():
                sent_at_first_audio = len(sent)
                first_audio.set()
            events.append(event)
        return events, sent_at_first_audio

    events, sent_at_first_audio = anyio.run(run)
    # "Good morning," was a complete clause once the second piece arrived: it was spoken then.
    assert sent_at_first_audio == 2
    assert isinstance(events[-1], Done)
    whole = "Good morning, and welcome to the clinic. Please take a seat."
    assert tts.ctx.usage.input_units == len(whole)
    # Retained as one utterance: the whole text and all of its audio, once.
    with tts.ctx.services.store.session() as session:
        [item] = history.list_page(session, tts.ctx.workspace.id, HistoryFilter()).items
        kept = history.get_audio(session, tts.ctx.workspace.id, item.id)[0].reveal()
    assert item.text == Sensitive(whole)
    assert kept == audio_of(events)


def test_too_much_unspoken_text_fails_the_stream_with_a_code(
    make_context: ContextFactory,
) -> None:
    tts = speech(make_context)

    async def pieces() -> AsyncIterator[Sensitive[str]]:
        yield Sensitive("a" * 6000)  # no boundary to cut at, more than the buffer takes

    async def run() -> list[Event]:
        return [e async for e in tts.speak_stream(pieces())]

    events = anyio.run(run)
    assert isinstance(events[-1], Failed)
    assert events[-1].code == "invalid_request"
    assert tts.ctx.usage.error_code == "invalid_request"
    assert not tts.ctx.usage.content_retained


def test_a_stream_closed_early_is_cancelled_and_keeps_nothing(
    make_context: ContextFactory,
) -> None:
    tts = speech(make_context)

    async def run() -> None:
        events = tts.speak(Sensitive("First part. " + "And a longer second part follows. " * 5))
        async for event in events:
            if isinstance(event, Audio) and event.data:
                break
        await events.aclose()  # type: ignore[attr-defined]

    anyio.run(run)
    assert tts.ctx.usage.cancelled
    assert not tts.ctx.usage.content_retained
    with tts.ctx.services.store.session() as session:
        assert history.list_page(session, tts.ctx.workspace.id, HistoryFilter()).items == []


def test_under_zero_retention_nothing_is_gathered_or_kept(make_context: ContextFactory) -> None:
    tts = speech(make_context, RequestFlags(enable_logging=False))

    async def run() -> list[Event]:
        return [e async for e in tts.speak(Sensitive("Hello."))]

    assert isinstance(anyio.run(run)[-1], Done)
    assert tts.ctx.usage.zero_retention and not tts.ctx.usage.content_retained
    with tts.ctx.services.store.session() as session:
        assert history.list_page(session, tts.ctx.workspace.id, HistoryFilter()).items == []
