"""Stop sequences are cut from streamed text, even when they arrive split across pieces."""

from sottovoce.engines.stop_sequences import StopScanner


def run(pieces: list[str], stops: tuple[str, ...]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    out = []
    for piece in pieces:
        text, stopped = scanner.feed(piece)
        out.append(text)
        if stopped:
            return "".join(out), True
    out.append(scanner.flush())
    return "".join(out), False


def test_without_stops_text_passes_through_at_once() -> None:
    scanner = StopScanner(())
    assert scanner.feed("abc") == ("abc", False)


def test_a_stop_string_split_across_pieces_is_found_and_cut() -> None:
    assert run(["Hello wo", "r", "ld and more"], ("world",)) == ("Hello ", True)


def test_text_that_only_looks_like_a_stop_start_is_released_at_the_end() -> None:
    assert run(["Hello wor"], ("world",)) == ("Hello wor", False)


def test_the_earliest_of_several_stops_wins() -> None:
    assert run(["one two three"], ("three", "two")) == ("one ", True)


def test_held_back_text_is_released_once_it_cannot_start_a_stop() -> None:
    scanner = StopScanner(("END",))
    assert scanner.feed("abE") == ("ab", False)
    assert scanner.feed("x") == ("Ex", False)
