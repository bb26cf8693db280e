"""Transcribing an upload as one mix or channel by channel, with any transcriber."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sottovoce.audio.decode import DecodedAudio
from sottovoce.engines.base import Transcriber, Transcript, TranscriptionRequest
from sottovoce.privacy.sensitive import Sensitive


@dataclass(frozen=True)
class Heard:
    transcript: Sensitive[Transcript]
    """The whole upload's transcript (channels interleaved by time when they were split)."""
    channels: tuple[Sensitive[Transcript], ...] = ()
    """Each channel's own transcript, when the channels were transcribed one by one."""


async def hear(
    transcriber: Transcriber,
    audio: DecodedAudio,
    request: TranscriptionRequest,
    *,
    split: bool,
) -> Heard:
    """``request`` with ``audio``'s mix, or (``split`` and 2-5 channels) with each channel."""
    if not split or len(audio.channels) < 2:
        return Heard(await transcriber.transcribe(replace(request, audio=audio.samples)))
    channels: list[Sensitive[Transcript]] = []
    for index, samples in enumerate(audio.channels):
        heard = await transcriber.transcribe(replace(request, audio=samples))
        channels.append(Sensitive(heard.reveal().on_channel(index)))
    merged = Transcript.interleave([c.reveal() for c in channels])
    return Heard(Sensitive(merged), tuple(channels))
