"""One reply of a voice agent: the LLM's tokens, cut into clauses, spoken as they come.

A :class:`Reply` runs two tasks: the writer streams the LLM's reply (watching it for a tool
call) and lets each complete clause go through a :class:`~sottovoce.services.text_buffer.
TextBuffer`; the speaker synthesizes those clauses one after the other while later ones are
still being written, so the first clause plays while the sentence is being written. A reply
with a fixed text (the first message) skips the LLM.

What the user heard is tracked as the audio goes out: the moment the first audio left, how many
seconds were sent, and the characters each second speaks (the engine's alignment). When the
user cuts in, the reply is cancelled at once (nothing more is sent, not even the rest of an
engine piece), and :meth:`Reply.spoken` tells which words had been played by then: that, not
the whole reply, is what the LLM sees in the history of the conversation.

Tool calls are written by the LLM as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
(the system prompt lists the tools and asks for that form): the text before the call is spoken,
the call itself never is.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sottovoce.engines.base import ChatMessage, ChatRequest
from sottovoce.errors import SottovoceError, UpstreamFailed
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_events import ReplyAudio, ReplyText
from sottovoce.services.agent_history import CLOSE, OPEN, tool_call_text
from sottovoce.services.events import Audio, Failed
from sottovoce.services.text_buffer import TextBuffer
from sottovoce.services.tts import Speech

if TYPE_CHECKING:
    from sottovoce.services.agent import Conversation

MAX_TOOL_ROUNDS = 3


@dataclass(frozen=True)
class CallRequest:
    name: str
    arguments: Mapping[str, Any]


class ToolScanner:
    """Splits streamed text into what may be spoken and a tool call, if one comes."""

    def __init__(self) -> None:
        self._held = ""
        self._call: str | None = None

    def feed(self, text: str) -> str:
        """More text; the part that is safe to speak now."""
        if self._call is not None:
            self._call += text
            return ""
        held = self._held + text
        at = held.find(OPEN)
        if at >= 0:
            self._held, self._call = "", held[at + len(OPEN) :]
            return held[:at]
        # Hold back a tail that could still become the opening tag.
        keep = next((n for n in range(len(OPEN) - 1, 0, -1) if held.endswith(OPEN[:n])), 0)
        self._held = held[len(held) - keep :] if keep else ""
        return held[: len(held) - keep]

    def finish(self) -> tuple[str, CallRequest | None]:
        """The rest to speak, and the call (``None`` if there was none, or it was malformed)."""
        if self._call is None:
            rest, self._held = self._held, ""
            return rest, None
        body = self._call.split(CLOSE, 1)[0].strip()
        try:
            parsed = json.loads(body)
            if isinstance(parsed, list) and parsed:
                parsed = parsed[0]
            name = parsed["name"]
            arguments = parsed.get("arguments") or {}
            if not isinstance(name, str) or not isinstance(arguments, dict):
                return "", None
        except (ValueError, KeyError, TypeError, AttributeError):
            return "", None
        return "", CallRequest(name, arguments)


class Reply:
    """One response of the agent. Created and cancelled by its :class:`Conversation`."""

    def __init__(
        self,
        conv: Conversation,
        *,
        fixed: str | None = None,
        extra: tuple[ChatMessage, ...] = (),
    ) -> None:
        self.conv = conv
        self.response_id = f"resp_{uuid.uuid4().hex[:20]}"
        self.item_id = f"item_{uuid.uuid4().hex[:20]}"
        self.fixed = fixed
        self.extra = extra
        self.ctx = conv.ctx.child(inherit_decision=True)
        self.written: list[str] = []
        self.chars: list[tuple[str, float, float]] = []
        self.first_audio_at: float | None = None
        self.audio_s = 0.0
        self.cancelled = False
        self.status = "in_progress"
        self.error: SottovoceError | None = None
        self.call: CallRequest | None = None
        """The tool call that ended the reply (``end_call``, or a client tool not awaited)."""
        self.exchanges: list[tuple[str, str, str]] = []
        """Tool calls answered during the reply: (name, arguments JSON, result)."""
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.done = anyio.Event()
        self._scope: anyio.CancelScope | None = None

    # What the user heard ---------------------------------------------------------------

    def played(self, now: float | None = None) -> float:
        """Seconds of this reply's audio played by ``now`` (sent audio plays in real time)."""
        if self.first_audio_at is None:
            return 0.0
        return max(0.0, min(self.audio_s, (now or time.monotonic()) - self.first_audio_at))

    @property
    def playing_until(self) -> float:
        return (self.first_audio_at or 0.0) + self.audio_s

    @property
    def text(self) -> str:
        return "".join(self.written)

    def spoken(self, played_s: float) -> str:
        """The words whose audio had been played after ``played_s`` seconds."""
        if self.conv.spec.text_only:
            return self.text.strip()
        heard = "".join(ch for ch, _start, end in self.chars if end <= played_s + 0.05)
        if len(heard) < len("".join(ch for ch, _, _ in self.chars)):
            heard = heard.rsplit(" ", 1)[0] if " " in heard.strip() else ""
        return heard.strip()

    # Running ---------------------------------------------------------------------------

    def cancel(self) -> None:
        self.cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    async def run(self) -> None:
        send, receive = anyio.create_memory_object_stream[str](math.inf)
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self.cancelled:
                    return
                try:
                    async with anyio.create_task_group() as tasks:
                        tasks.start_soon(self._speak, receive)
                        await self._write(send)
                except BaseExceptionGroup as group:
                    raise _first_error(group) from None
            if not self.cancelled:
                self.status = "completed"
        except SottovoceError as exc:
            self.error, self.status = exc, "failed"
            self.ctx.usage.record_error(exc.code, exc.status)
        finally:
            send.close()
            receive.close()
            if self.status == "in_progress":
                self.status = "cancelled"
                self.ctx.usage.cancelled = True
            self.ctx.usage.add_input(self.prompt_tokens, "tokens")
            self.ctx.usage.add_output(self.completion_tokens, "tokens")
            with anyio.CancelScope(shield=True):
                await self.ctx.finish()
            self.done.set()

    async def _emit(self, event: Any) -> None:
        if not self.cancelled:
            await self.conv.emit(event)

    async def _write(self, out: MemoryObjectSendStream[str]) -> None:
        settings = self.conv.ctx.settings.tts
        buffer = TextBuffer(max_chunk_chars=settings.max_chunk_chars, max_chars=10**6)

        async def say(text: str) -> None:
            if not text:
                return
            self.written.append(text)
            await self._emit(ReplyText(self.response_id, self.item_id, Sensitive(text)))
            piece = buffer.push(text)
            if piece is not None:
                out.send_nowait(piece)

        if self.fixed is not None:
            await say(self.fixed)
        else:
            await self._generate(say)
        rest = buffer.flush()
        if rest is not None:
            out.send_nowait(rest)
        out.close()

    async def _generate(self, say: Callable[[str], Awaitable[None]]) -> None:
        exchanges: list[ChatMessage] = []
        for _round in range(MAX_TOOL_ROUNDS + 1):
            request = ChatRequest(
                messages=(*self.conv.llm_messages(), *self.extra, *exchanges),
                max_tokens=self.conv.spec.max_tokens,
                temperature=self.conv.spec.temperature,
                seed=0,
                mode=Mode.STREAMING,
            )
            scanner = ToolScanner()
            stream = self.conv.model.stream(request)
            try:
                async for delta in stream:
                    await say(scanner.feed(delta.text.reveal()))
                    if delta.finish_reason is not None:
                        self.prompt_tokens += delta.prompt_tokens or 0
                        self.completion_tokens += delta.completion_tokens or 0
            finally:
                with anyio.CancelScope(shield=True):
                    await stream.aclose()  # type: ignore[attr-defined]
            rest, call = scanner.finish()
            await say(rest)
            if call is None:
                return
            result = await self.conv.run_tool(self, call)
            if result is None:  # end_call, or a tool whose answer is not awaited
                self.call = call
                return
            arguments = json.dumps(call.arguments)
            self.exchanges.append((call.name, arguments, result))
            exchanges += [
                ChatMessage("assistant", Sensitive(tool_call_text(call.name, arguments))),
                ChatMessage("user", Sensitive(f"[result of {call.name}] {result}")),
            ]
        raise UpstreamFailed("The model kept calling tools without answering.")

    async def _speak(self, pieces: MemoryObjectReceiveStream[str]) -> None:
        if self.conv.spec.text_only:
            async for _piece in pieces:
                pass
            return
        speech = Speech(self.conv.speech_ctx, self.conv.speech_ask)
        events = speech.speak_live(_texts(pieces))
        try:
            async for event in events:
                if isinstance(event, Failed):
                    raise event.error
                if isinstance(event, Audio):
                    await self._audio(event)
        finally:
            with anyio.CancelScope(shield=True):
                await events.aclose()  # type: ignore[attr-defined]

    async def _audio(self, event: Audio) -> None:
        data = event.data.reveal()
        if not data or self.cancelled:
            return
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()
            self.conv.reply_plays(self)
        if event.alignment is not None:
            self.chars.extend(event.alignment.reveal())
        self.conv.record_agent_audio(data)
        await self._emit(
            ReplyAudio(self.response_id, self.item_id, event.data, event.alignment, event.start)
        )
        self.audio_s = max(self.audio_s, event.start) + self.conv.seconds_of(data)


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped a reply's tasks (an engine's or the LLM's, typed), or the group."""
    typed, _rest = group.split(SottovoceError)
    if typed is not None:
        pending: list[BaseException] = [typed]
        while pending:
            exc = pending.pop()
            if isinstance(exc, BaseExceptionGroup):
                pending.extend(exc.exceptions)
            elif isinstance(exc, SottovoceError):
                return exc
    return group


async def _texts(pieces: MemoryObjectReceiveStream[str]) -> AsyncIterator[str]:
    async for piece in pieces:
        yield piece
