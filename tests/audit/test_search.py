"""The audit's search: every form of every marker, in every place, found as a plain scan would."""

from __future__ import annotations

import random

from sottovoce.audit.markers import audio_marker_forms, new_marker, text_marker_forms
from sottovoce.audit.search import Finding, Places, search_with_places


def naive(places: Places, markers: list[str], audio_markers: list[str]) -> list[Finding]:
    """The definition: each form looked for on its own, in each place."""
    found = []
    for place, data in places.contents():
        for marker in markers:
            found += [
                Finding(marker, place, n) for n, f in text_marker_forms(marker).items() if f in data
            ]
        for marker in audio_markers:
            found += [
                Finding(marker, place, n)
                for n, f in audio_marker_forms(marker).items()
                if f in data
            ]
    return found


def test_the_search_finds_exactly_what_looking_for_each_form_finds() -> None:
    rng = random.Random(7)
    markers = [new_marker() for _ in range(40)]
    audio = [new_marker() for _ in range(5)]
    every_form = [f for m in markers for f in text_marker_forms(m).values()]
    every_form += [f for m in audio for f in audio_marker_forms(m).values()]
    streams: dict[str, bytes | bytearray] = {}
    for n in range(12):
        data = bytearray(rng.randbytes(20_000))
        for form in rng.sample(every_form, 15):
            at = rng.randrange(len(data))
            data[at:at] = form
        # Near misses: a shared opening cut short, at the very end too.
        data += text_marker_forms(markers[0])["plain"][:-1]
        streams[f"stream-{n}"] = data
    # A marker's forms overlapping one another, and a form that is all there is.
    streams["overlap"] = b"CANARY" + text_marker_forms(markers[1])["plain"]
    streams["whole"] = text_marker_forms(markers[2])["utf-16-be"]
    places = Places(streams=streams)

    found, read = search_with_places(places, [*markers, new_marker()], audio)

    assert read == list(streams)
    assert sorted(found, key=repr) == sorted(naive(places, markers, audio), key=repr)
    assert len(found) >= 12 * 15  # the planted forms are there to be found
