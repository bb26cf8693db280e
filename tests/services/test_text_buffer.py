"""Text arriving in pieces: a clause or the schedule's count, whichever first; flush lets all go."""

from __future__ import annotations

import pytest

from sottovoce.errors import InvalidRequest
from sottovoce.services.text_buffer import TextBuffer


def test_a_complete_clause_goes_at_once() -> None:
    buffer = TextBuffer()
    assert buffer.push("Hello there") is None
    assert buffer.push(", my") == "Hello there,"
    assert buffer.push(" friend") is None
    assert buffer.flush() == " my friend"
    assert buffer.flush() is None


def test_a_clause_boundary_needs_the_space_after_it() -> None:
    buffer = TextBuffer()
    assert buffer.push("It costs 3") is None
    assert buffer.push(".5 dollars") is None  # "3." was not the end of a sentence
    assert buffer.push(". Then") == "It costs 3.5 dollars."


def test_the_schedule_lets_whole_words_go_before_a_clause_ends() -> None:
    buffer = TextBuffer(schedule=(20, 30), max_chunk_chars=500)
    assert buffer.push("one two three four") is None  # 18 characters: below 20
    assert buffer.push(" five si") == "one two three four five "  # 26 >= 20: up to the last word
    assert buffer.push("x seven eight nine") is None  # 22 < 30 (the second count)
    assert buffer.push(" ten eleven") == "six seven eight nine ten "
    assert buffer.generations == 2
    # The last count repeats.
    assert buffer.push(" twelve thirteen fourteen") == "eleven twelve thirteen "


def test_without_a_schedule_only_clauses_or_the_chunk_limit_cut() -> None:
    buffer = TextBuffer(max_chunk_chars=30)
    assert buffer.push("no punctuation in this text at") is None
    assert buffer.push(" all") == "no punctuation in this text at "


def test_whitespace_alone_is_never_spoken() -> None:
    buffer = TextBuffer()
    assert buffer.push("   ") is None
    assert buffer.flush() is None
    assert not buffer.pending


def test_too_much_waiting_text_is_refused_without_echoing_it() -> None:
    buffer = TextBuffer(max_chars=50)
    with pytest.raises(InvalidRequest) as refused:
        buffer.push("secret " * 10)
    assert "secret" not in refused.value.message
    assert refused.value.fields == ("text",)
