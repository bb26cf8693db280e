"""Cartesia's voice cloning (approximate voice matching) and listing through its SDK."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cartesia import Cartesia, PermissionDeniedError

from tests.harness import Creds, RunningServer
from tests.spoken import encode, speak


def client(server: RunningServer, creds: Creds) -> Cartesia:
    return Cartesia(api_key=creds.api_key, base_url=server.url, max_retries=0)


@pytest.fixture
def cartesia(server: RunningServer, workspace: Creds) -> Iterator[Cartesia]:
    with client(server, workspace) as c:
        yield c


def clip() -> bytes:
    return encode(speak("The garden was quiet this morning, and the river was calm."), "wav")


def test_a_cloned_voice_is_listed_for_its_owner_only(
    server: RunningServer, workspace: Creds, cartesia: Cartesia
) -> None:
    made = cartesia.voices.clone(clip=("me.wav", clip(), "audio/wav"), name="Me", language="en",
                                 description="my own voice")  # fmt: skip
    assert made.name == "Me" and made.description == "my own voice"
    mine = [v for v in cartesia.voices.list(limit=5) if v.is_owner]
    assert [v.id for v in mine] == [made.id]
    assert cartesia.voices.get(made.id).name == "Me"
    other = server.create_workspace("other")
    with client(server, other) as theirs:
        assert made.id not in [v.id for v in theirs.voices.list(limit=100)]
    httpx.delete(f"{server.url}/voices/{made.id}", headers={"X-API-Key": workspace.api_key})
    assert made.id not in [v.id for v in cartesia.voices.list(limit=100)]


def test_cloning_is_refused_under_zdr(server: RunningServer, zdr_workspace: Creds) -> None:
    with client(server, zdr_workspace) as c, pytest.raises(PermissionDeniedError) as refused:
        c.voices.clone(clip=("me.wav", clip(), "audio/wav"), name="Me", language="en")
    body = refused.value.body
    assert isinstance(body, dict) and body["error_code"] == "not_zdr_eligible"
