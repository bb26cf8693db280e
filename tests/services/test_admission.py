"""Admission control counts running work per kind, on the replica and per workspace; past a
limit it refuses at once, and a place given back is free again."""

from __future__ import annotations

import pytest

from sottovoce.config import Settings, SpeechProvider, SttSettings
from sottovoce.config_capacity import LimitSettings
from sottovoce.engines.base import Transcriber
from sottovoce.engines.upstream_speech import upstream_speech_engines
from sottovoce.engines.whisper import WhisperTranscriber
from sottovoce.errors import TooBusy
from sottovoce.privacy.eligibility import Product
from sottovoce.services.admission import Admission, Kind, admit_live, kind_of


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
    admission = Admission.from_settings(LimitSettings(max_concurrent_synthesis=2), cores=2)
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
    admission = Admission.from_settings(limits, cores=2)
    held = admission.admit(Kind.SESSION, "ws_a")
    with pytest.raises(TooBusy, match="workspace"):
        admission.admit(Kind.SESSION, "ws_a")
    admission.admit(Kind.SESSION, "ws_b")
    assert (admission.running(Kind.SESSION), admission.running(Kind.SESSION, "ws_a")) == (2, 1)
    held.release()
    assert admission.running(Kind.SESSION, "ws_a") == 0
    admission.admit(Kind.SESSION, "ws_a")


def test_no_limit_means_none() -> None:
    admission = Admission.from_settings(LimitSettings(max_concurrent_transcription=None), cores=2)
    tickets = [admission.admit(Kind.TRANSCRIPTION, "ws") for _ in range(100)]
    assert admission.running(Kind.TRANSCRIPTION, "ws") == len(tickets)


def test_the_live_transcription_limit_follows_the_cores() -> None:
    limits = LimitSettings(live_transcriptions_per_core=1.5)
    assert [limits.live_transcriptions(cores) for cores in (1, 2, 3, 16)] == [1, 3, 4, 24]
    # Never none at all, however small the figure; a limit set outright wins.
    assert LimitSettings(live_transcriptions_per_core=0.1).live_transcriptions(2) == 1
    assert LimitSettings(max_live_transcriptions=5).live_transcriptions(64) == 5
    for cores in (1, 4):
        admission = Admission.from_settings(LimitSettings(), cores=cores)
        assert admission.replica[Kind.LIVE_TRANSCRIPTION] == LimitSettings().live_transcriptions(
            cores
        )


def test_a_socket_widened_to_a_live_transcription_counts_as_both_until_released() -> None:
    limits = LimitSettings(max_concurrent_sessions=5, max_live_transcriptions=1)
    admission = Admission.from_settings(limits, cores=2)
    first = admission.admit(Kind.SESSION, "ws_a")
    first.widen(Kind.LIVE_TRANSCRIPTION)
    first.widen(Kind.LIVE_TRANSCRIPTION)  # counted once
    assert admission.running(Kind.LIVE_TRANSCRIPTION) == 1
    second = admission.admit(Kind.SESSION, "ws_b")
    with pytest.raises(TooBusy):
        second.widen(Kind.LIVE_TRANSCRIPTION)
    # The refused widening took nothing; the socket itself still holds its session place.
    assert (admission.running(Kind.LIVE_TRANSCRIPTION), admission.running(Kind.SESSION)) == (1, 2)
    first.release()
    assert (admission.running(Kind.LIVE_TRANSCRIPTION), admission.running(Kind.SESSION)) == (0, 1)
    second.widen(Kind.LIVE_TRANSCRIPTION)
    assert admission.running(Kind.LIVE_TRANSCRIPTION, "ws_b") == 1


def test_a_live_transcription_is_refused_while_the_decode_queue_is_behind() -> None:
    admission = Admission.from_settings(LimitSettings(live_backlog_s=2.0), cores=8)
    ticket = admission.admit(Kind.SESSION, "ws")
    with pytest.raises(TooBusy):
        ticket.widen(Kind.LIVE_TRANSCRIPTION, backlog_s=2.5)
    ticket.widen(Kind.LIVE_TRANSCRIPTION, backlog_s=1.0)
    # Only live transcriptions look at the backlog; and without a limit nothing is refused.
    admission.admit(Kind.SESSION, "ws", backlog_s=60)
    patient = Admission.from_settings(LimitSettings(live_backlog_s=0), cores=8)
    patient.admit(Kind.SESSION, "ws").widen(Kind.LIVE_TRANSCRIPTION, backlog_s=60)


def test_only_engines_on_our_own_cores_count_as_live_transcriptions() -> None:
    provider = SpeechProvider(
        kind="deepgram", base_url="http://127.0.0.1:9", stt_models=("nova-3",), api_key="k"
    )
    settings = Settings(speech={"providers": [provider]})
    upstream = next(e for e in upstream_speech_engines(settings) if isinstance(e, Transcriber))
    local = WhisperTranscriber(SttSettings())  # not loaded: nothing runs here
    admission = Admission.from_settings(LimitSettings(max_live_transcriptions=1), cores=2)
    admit_live(admission.admit(Kind.SESSION, "ws"), local)
    admit_live(None, local)  # not under admission control: nothing to count
    with pytest.raises(TooBusy):
        admit_live(admission.admit(Kind.SESSION, "ws"), local)
    # An upstream provider's stream runs on its cores, not ours.
    admit_live(admission.admit(Kind.SESSION, "ws"), upstream)
    assert admission.running(Kind.LIVE_TRANSCRIPTION) == 1
