"""ElevenLabs' ``POST /v1/history/download``: one item's audio as a file, several as a zip.

The zip is built in memory (``zipfile`` over a ``BytesIO``): nothing of the audio touches the
disk. ``output_format`` is ``default`` (the audio as it was kept) or ``wav`` (transcoded in
memory; a compressed item becomes 16 kHz mono, the rate the decoder gives).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from sottovoce.api.deps import context
from sottovoce.audio.decode import decode_container
from sottovoce.audio.encode import wav_header
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.store import history

router = APIRouter(tags=["ElevenLabs: history"])
HistoryContext = Annotated[RequestContext, Depends(context(Product.HISTORY))]

MAX_ITEMS = 100
_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "audio/aac": "aac",
    "audio/flac": "flac",
    "audio/pcm": "pcm",
    "audio/basic": "ulaw",
    "audio/x-alaw-basic": "alaw",
}
_PCM_RATE = re.compile(r"pcm_(\d{4,5})")
MAX_TRANSCODE_SECONDS = 3600.0


class DownloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    history_item_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_ITEMS
    )
    output_format: Literal["default", "wav"] | None = None


def _as_wav(audio: Sensitive[bytes], content_type: str, output_format: str | None) -> bytes:
    data = audio.reveal()
    if content_type == "audio/wav":
        return data
    rate = _PCM_RATE.fullmatch(output_format or "")
    if content_type == "audio/pcm" and rate is not None:
        return wav_header(int(rate.group(1)), len(data)) + data
    decoded = decode_container(audio, max_seconds=MAX_TRANSCODE_SECONDS)
    pcm = (np.clip(decoded.array(), -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return wav_header(decoded.sample_rate, len(pcm)) + pcm


def _file_of(
    session: Session, workspace_id: str, item_id: str, wav: bool
) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of one item's audio."""
    audio, content_type = history.get_audio(session, workspace_id, item_id)
    if wav:
        item = history.get(session, workspace_id, item_id)
        return _as_wav(audio, content_type, item.output_format), "audio/wav", f"{item_id}.wav"
    extension = _EXTENSIONS.get(content_type, "bin")
    return audio.reveal(), content_type, f"{item_id}.{extension}"


@router.post("/v1/history/download")
async def download_history(body: DownloadRequest, ctx: HistoryContext) -> Response:
    ids = list(dict.fromkeys(body.history_item_ids))  # each item once, in the order asked
    wav = body.output_format == "wav"
    files = await ctx.run_in_session(lambda s: [_file_of(s, ctx.workspace.id, i, wav) for i in ids])
    if len(files) == 1:
        data, media_type, name = files[0]
        disposition = f'attachment; filename="{name}"'
        return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for data, _media_type, name in files:
            archive.writestr(name, data)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="history.zip"'},
    )
