"""Transcripts of several channels become one, in order of time."""

from __future__ import annotations

from sottovoce.engines.base import Segment, Transcript, Word


def transcript(*segments: tuple[str, float, float], language: str = "en") -> Transcript:
    return Transcript(
        segments=tuple(
            Segment(
                text=f" {text}",
                start=start,
                end=end,
                words=tuple(Word(text=f" {w}", start=start, end=end) for w in text.split()),
            )
            for text, start, end in segments
        ),
        language=language,
        language_probability=0.9,
        duration=10.0,
    )


def test_on_channel_marks_every_segment_and_word() -> None:
    marked = transcript(("hello there", 0.0, 1.0)).on_channel(1)
    assert {s.channel for s in marked.segments} == {1}
    assert {w.channel for w in marked.words} == {1}
    assert marked.text == "hello there"


def test_interleave_orders_segments_by_start_then_channel() -> None:
    agent = transcript(("good morning", 0.0, 1.0), ("anything else", 5.0, 6.0)).on_channel(0)
    caller = transcript(("hi", 0.0, 0.5), ("yes my results", 2.0, 4.0), language="de")
    both = Transcript.interleave([agent, caller.on_channel(1)])
    assert both.text == "good morning hi yes my results anything else"
    assert [w.channel for w in both.words] == [0, 0, 1, 1, 1, 1, 0, 0]
    # The language is the one heard on the channel with the most speech (caller 2.5 s, agent 2 s).
    assert both.language == "de"
    assert both.duration == 10.0
