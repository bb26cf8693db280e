"""Text splitting: pieces cover the text exactly, the first is short, long ones are cut."""

import pytest

from sottovoce.engines.text_split import complete_prefix, split_text

FOX = "The quick brown fox jumps over the lazy dog."


def pieces(text: str, **kwargs: int) -> list[str]:
    spans = split_text(text, **kwargs)
    out = [text[s.start : s.end] for s in spans]
    assert "".join(out) == text
    return out


def test_first_piece_of_a_plain_sentence_is_at_most_a_few_words() -> None:
    assert pieces(FOX) == ["The quick brown fox ", "jumps over the lazy dog."]
    # A word earlier, if that is where a phrase starts.
    assert pieces("Call me at noon and we will talk it over.")[0] == "Call me at noon "
    assert pieces("I went to the shop for some bread.")[0] == "I went "


def test_first_piece_is_the_first_clause_when_there_is_one() -> None:
    text = "Last week, the meeting moved to Thursday at noon in the big room."
    assert pieces(text)[0] == "Last week,"


def test_short_sentences_are_not_cut_and_zero_disables_the_short_first_piece() -> None:
    assert pieces("One two three four five six.") == ["One two three four five six."]
    assert pieces(FOX, first_words=0) == [FOX]


def test_sentences_are_pieces_and_abbreviations_and_decimals_do_not_end_them() -> None:
    text = "Hello there. Dr. Smith paid 3.5 dollars! Is that so?"
    assert pieces(text, first_words=0) == [
        "Hello there.",
        " Dr. Smith paid 3.5 dollars!",
        " Is that so?",
    ]


def test_long_sentences_are_cut_at_clauses_then_words() -> None:
    text = ("word " * 30).strip() + ", and then " + ("more " * 10).strip() + "."
    out = pieces(text, max_chars=60, first_words=0)
    assert all(len(p) <= 61 for p in out)
    assert len(out) >= 3


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_blank_text_gives_no_pieces(text: str) -> None:
    assert split_text(text) == []


def test_punctuation_only_pieces_join_a_neighbour() -> None:
    out = pieces("Wait... ! Go on.", first_words=0)
    assert all(any(ch.isalnum() for ch in p) for p in out)


@pytest.mark.parametrize(
    ("text", "ready"),
    [
        ("Hello there", 0),  # nothing complete yet
        ("Hello there.", 0),  # a full stop may still be "..." or an abbreviation's
        ("Hello there. How", len("Hello there.")),
        ("Well, then", len("Well,")),
        ("First. Second, third", len("First. Second,")),
        ("Dr. Smith is", 0),  # an abbreviation is not the end of a sentence
    ],
)
def test_complete_prefix_waits_for_a_boundary_that_cannot_grow(text: str, ready: int) -> None:
    assert complete_prefix(text, max_chars=100) == ready


def test_complete_prefix_cuts_a_long_run_at_its_last_word() -> None:
    text = "word " * 30 + "unfinished"
    assert complete_prefix(text, max_chars=100) == text.rindex("unfinished")
    assert complete_prefix("x" * 300, max_chars=100) == 0  # one word: nothing to cut at
