"""File transcription under zero retention: canaries on success and failure paths, and proof
that a large upload never touches the temporary directory."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser

from tests.harness import Creds, RunningServer
from tests.spoken import encode, join, random_phrase, silence, speak

ENDPOINTS = {
    "elevenlabs": ("/v1/speech-to-text", "model_id", "scribe_v1"),
    "openai": ("/v1/audio/transcriptions", "model", "whisper-1"),
    "cartesia": ("/stt", "model", "ink-whisper"),
}


def marked_upload(canary: str) -> tuple[bytes, str]:
    """A WAV whose metadata carries the canary, and a phrase nobody else says."""
    phrase = ", ".join(random_phrase(5)).capitalize() + "."
    return encode(speak(phrase), "wav", metadata={"comment": canary}), phrase


def transcribe(server: RunningServer, key: str, endpoint: str, canary: str, audio: bytes,
               **fields: str) -> httpx.Response:  # fmt: skip
    path, model_field, model = ENDPOINTS[endpoint]
    data = {model_field: model, **fields}
    if endpoint == "openai":
        data["prompt"] = f"Spell it {canary}"
    return httpx.post(
        f"{server.url}{path}",
        headers={"xi-api-key": key},
        files={"file": (f"{canary}.wav", audio, "audio/wav")},
        data=data,
        timeout=120,
    )


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_zdr_success_leaves_no_trace(
    server: RunningServer, zdr_workspace: Creds, canary: str, endpoint: str
) -> None:
    audio, _ = marked_upload(canary)
    r = transcribe(server, zdr_workspace.api_key, endpoint, canary, audio)
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    assert len(text) > 10
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_marker(text) == []


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize(("failure", "status"), [("corrupt", 422), ("model", 404), ("field", 422)])
def test_zdr_failures_leave_no_trace_and_echo_nothing(
    server: RunningServer, zdr_workspace: Creds, canary: str, endpoint: str, failure: str,
    status: int,
) -> None:  # fmt: skip
    audio, _ = marked_upload(canary)
    fields: dict[str, str] = {}
    if failure == "corrupt":
        audio = b"\x00garbage" + canary.encode() * 100
    elif failure == "model":
        fields[ENDPOINTS[endpoint][1]] = canary
    else:
        fields["language" if endpoint != "elevenlabs" else "language_code"] = canary
    r = transcribe(server, zdr_workspace.api_key, endpoint, canary, audio, **fields)
    assert r.status_code == status, r.text
    assert canary not in r.text
    server.store.checkpoint()
    assert server.find_marker(canary) == []


def test_without_zdr_transcript_and_audio_are_kept(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": workspace.api_key},
        json={"keep_input_audio": True},
    )
    assert r.status_code == 200, r.text
    audio, _ = marked_upload(canary)
    r = transcribe(server, workspace.api_key, "elevenlabs", canary, audio)
    assert r.status_code == 200, r.text
    server.store.checkpoint()
    # The negative control: the same search finds the kept audio and transcript.
    assert server.find_marker(canary)
    assert server.find_marker(r.json()["text"])
    kept = httpx.get(
        f"{server.url}/v1/history/{r.json()['transcription_id']}/audio",
        headers={"xi-api-key": workspace.api_key},
    )
    assert kept.content == audio


# No spill to disk ---------------------------------------------------------------------------


def open_files_under(pid: int, directory: Path) -> list[str]:
    """Files the process holds open inside ``directory`` (deleted ones included)."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def test_the_spill_detector_sees_starlettes_spooled_upload(tmp_path: Path) -> None:
    """Control: Starlette's own parser does roll a 2 MB upload over into TMPDIR."""
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        ).encode()
        + b"\x01" * 2_000_000
        + f"\r\n--{boundary}--\r\n".encode()
    )

    async def stream() -> Iterator[bytes]:  # type: ignore[misc]
        yield body

    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        import anyio

        headers = Headers({"content-type": f"multipart/form-data; boundary={boundary}"})
        form = anyio.run(MultiPartParser(headers, stream()).parse)  # type: ignore[arg-type]
        assert open_files_under(os.getpid(), tmp_path), "Starlette should have spilled to disk"
        anyio.run(form.close)
    finally:
        tempfile.tempdir = saved


def test_a_large_upload_never_touches_tmpdir(server: RunningServer, canary: str) -> None:
    creds = server.create_workspace("big", zdr=True)
    before = set(server.tmp_dir.rglob("*"))  # the server is shared: only what this upload made
    spoken = speak("This is a long recording from the clinic.")
    pad = silence(10.0, spoken.rate)
    audio = encode(join(spoken, pad, pad, pad), "wav", channels=2, metadata={"comment": canary})
    boundary = "sv" + canary
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model_id"\r\n\r\nscribe_v1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{canary}.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    body = head + audio + f"\r\n--{boundary}--\r\n".encode()
    assert len(body) > 2_000_000  # twice Starlette's spool threshold
    seen: list[str] = []

    def slowly() -> Iterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]
            time.sleep(0.05)
            seen.extend(open_files_under(server.proc.pid, server.tmp_dir))

    r = httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers={
            "xi-api-key": creds.api_key,
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
        content=slowly(),
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert "clinic" in r.json()["text"].lower()
    assert seen == []
    assert set(server.tmp_dir.rglob("*")) - before == set()
    server.store.checkpoint()
    assert server.find_marker(canary) == []
