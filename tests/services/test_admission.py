"""Admission control counts running work per kind, on the replica and per workspace; past a
limit it refuses at once, and a place given back is free again."""

from __future__ import annotations

import pytest

from sottovoce.config import LimitSettings
from sottovoce.errors import TooBusy
from sottovoce.privacy.eligibility import Product
from sottovoce.services.admission import Admission, Kind, kind_of


def test_each_request_counts_as_its_kind() -> None:
    assert kind_of(Product.TTS, socket=False) is Kind.SYNTHESIS
    assert kind_of(Product.DIALOGUE, socket=False) is Kind.SYNTHESIS
    assert kind_of(Product.SPEECH_TO_SPEECH, socket=False) is Kind.SYNTHESIS
    assert kind_of(Product.STT, socket=False) is Kind.TRANSCRIPTION
    # Every socket is a session, whatever it carries; chat and admin are not limited here.
    assert kind_of(Product.TTS, socket=True) is Kind.SESSION
    assert kind_of(Product.AGENT, socket=True) is Kind.SESSION
    assert kind_of(Product.LLM, socket=False) is None
    assert kind_of(Product.WORKSPACE, socket=False) is None


def test_the_replica_limit_counts_every_workspace() -> None:
    admission = Admission.from_settings(LimitSettings(max_concurrent_synthesis=2))
    first = admission.admit(Kind.SYNTHESIS, "ws_a")
    admission.admit(Kind.SYNTHESIS, "ws_b")
    with pytest.raises(TooBusy, match="server"):
        admission.admit(Kind.SYNTHESIS, "ws_c")
    # Other kinds have their own limits.
    admission.admit(Kind.TRANSCRIPTION, "ws_c")
    first.release()
    first.release()  # given back once, however often it is released
    assert admission.running(Kind.SYNTHESIS) == 1
    admission.admit(Kind.SYNTHESIS, "ws_c")
    with pytest.raises(TooBusy):
        admission.admit(Kind.SYNTHESIS, "ws_a")


def test_a_workspace_limit_leaves_the_others_alone() -> None:
    limits = LimitSettings(max_concurrent_sessions=3, workspace_max_concurrent_sessions=1)
    admission = Admission.from_settings(limits)
    held = admission.admit(Kind.SESSION, "ws_a")
    with pytest.raises(TooBusy, match="workspace"):
        admission.admit(Kind.SESSION, "ws_a")
    admission.admit(Kind.SESSION, "ws_b")
    assert (admission.running(Kind.SESSION), admission.running(Kind.SESSION, "ws_a")) == (2, 1)
    held.release()
    assert admission.running(Kind.SESSION, "ws_a") == 0
    admission.admit(Kind.SESSION, "ws_a")


def test_no_limit_means_none() -> None:
    admission = Admission.from_settings(LimitSettings(max_concurrent_transcription=None))
    tickets = [admission.admit(Kind.TRANSCRIPTION, "ws") for _ in range(100)]
    assert admission.running(Kind.TRANSCRIPTION, "ws") == len(tickets)
