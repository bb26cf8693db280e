"""A voice conversation through the ElevenLabs SDK's ``Conversation``, with the local engines
end to end: a question spoken by the local TTS, heard by the local STT, answered by SmolLM2
(greedy), spoken back, and that answer heard again with the local STT."""

from __future__ import annotations

import threading
import warnings

from tests.api.agent_server import agent_id
from tests.api.elevenlabs.agent_client import Speaker, sdk
from tests.api.tts_sockets import transcribe
from tests.harness import RunningServer
from tests.polling import wait_for
from tests.spoken import pcm_wav, resample, speak

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from elevenlabs.conversational_ai.conversation import Conversation


def test_a_spoken_question_is_answered_aloud_through_the_sdk(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("sdk")
    agent = agent_id(
        agent_server,
        creds,
        llm=None,  # the local SmolLM2
        text_only=False,
        prompt="You are a helpful assistant. Answer every question in one short sentence.",
        first_message="Hello, how can I help?",
    )
    speaker = Speaker()
    said: list[tuple[str, str]] = []
    lock = threading.Lock()

    def keep(role: str) -> object:
        def add(text: str) -> None:
            with lock:
                said.append((role, text))

        return add

    def count(role: str) -> int:
        with lock:
            return sum(r == role for r, _ in said)

    with sdk(agent_server, creds) as client:
        conversation = Conversation(
            client,
            agent,
            requires_auth=True,  # a signed URL, as the SDK gets one
            audio_interface=speaker,
            callback_agent_response=keep("agent"),  # type: ignore[arg-type]
            callback_user_transcript=keep("user"),  # type: ignore[arg-type]
        )
        conversation.start_session()
        try:
            wait_for(lambda: count("agent") >= 1, "the first message", timeout=60)
            question = speak("What is the capital of France?")
            speaker.say(resample(question, 16000).astype("<i2").tobytes())
            wait_for(lambda: count("agent") >= 2, "the answer", timeout=120)
        finally:
            conversation.end_session()
            conversation.wait_for_session_end()
    user = [text for role, text in said if role == "user"]
    assert "capital of france" in user[0].lower()
    heard = transcribe(agent_server, creds, pcm_wav(bytes(speaker.heard), 16000)).lower()
    assert "how can i help" in heard
    assert "paris" in heard, heard
