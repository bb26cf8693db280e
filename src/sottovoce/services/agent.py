"""A live conversation with a voice agent, once for every surface (ElevenLabs Agents, OpenAI
Realtime): audio in, turns detected, heard, answered and spoken, retention decided once.

The pipeline: the client's audio (any PCM rate or G.711) is resampled to 16 kHz and fed to a
live transcription stream (:mod:`sottovoce.engines.streaming_stt`): the Silero VAD says where
speech starts and stops, Whisper (tiny.en when installed: the fast model) gives partials while
the user talks and the final words once a pause of ``end_of_turn_silence_s`` ends the turn. The
turn goes to the LLM (through the registry, local or upstream) with the system prompt, the
dynamic variables and the conversation so far; its tokens are cut into clauses and spoken
clause by clause (:mod:`sottovoce.services.agent_reply`). User speech while the agent talks
(barge-in) cancels the reply at once and says so (``Interrupted``); the LLM then sees only the
words that were played. Timers: maximum duration, the turn timeout (the agent asks again after
a silence), the silence that ends the call. Tools: client tools (the agent asks the client and
waits for the result) and the built-in ``end_call``.

Retention is decided once, on creation, with the LLM's route in streaming mode: the workspace's
ZDR or the agent's zero-retention mode keep nothing but content-free usage records (the
session's: audio seconds in and out; one per reply: tokens in and out), and refuse an LLM
provider whose declaration does not cover streaming. Otherwise, when the conversation ends,
however it ends, its transcript (redacted in memory first when the agent asks for it) and its
recording (only with ``record_voice``) become one history item and a conversation record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from anyio.abc import TaskGroup

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.engines.base import (
    ChatMessage,
    ChatModel,
    StreamEvent,
    StreamEventKind,
)
from sottovoce.engines.voices import DEFAULT_VOICE_ID
from sottovoce.errors import InvalidRequest, PayloadTooLarge, SottovoceError, UnknownModel
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_events import (
    AgentEvent,
    Interrupted,
    ReplyDone,
    ReplyStarted,
    SpeechStarted,
    SpeechStopped,
    UserPartial,
    UserTurn,
    VadScore,
)
from sottovoce.services.agent_history import Turn, llm_messages
from sottovoce.services.agent_listening import Listening
from sottovoce.services.agent_recording import Recorder
from sottovoce.services.agent_reply import CallRequest, Reply
from sottovoce.services.agent_spec import END_CALL, AgentSpec, name_values, render, variables
from sottovoce.services.agent_timers import CallClock
from sottovoce.services.agent_tools import ToolDesk
from sottovoce.services.agent_transcript import keep_conversation
from sottovoce.services.context import RequestContext
from sottovoce.services.tts import Speech, SpeechAsk
from sottovoce.store.ids import new_id, now_ms

Emit = Callable[[AgentEvent], Awaitable[None]]
DEFAULT_LLM = "local/smollm2-135m-instruct"
_NO_AUDIO = OutputFormat(Codec.PCM_S16LE, 16_000, name="pcm_16000")


def resolve_llm(ctx: RequestContext, llm: str | None) -> ChatModel:
    name = (llm or "").strip() or DEFAULT_LLM
    if not ctx.engines.knows(name):
        raise UnknownModel("No such LLM on this server.", fields=("llm",))
    return ctx.engines.chat_model(name)


class Conversation:
    """One live conversation: created (decided) per socket, fed by its surface."""

    def __init__(
        self, ctx: RequestContext, spec: AgentSpec, emit: Emit, *, store: bool | None = None
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.emit = emit
        self.id = new_id("conv")
        self.model = resolve_llm(ctx, spec.llm)
        ctx.usage.model_id = self.model.info.model_id
        flags = RequestFlags(agent_zero_retention=spec.privacy.zero_retention_mode, store=store)
        self.decision = ctx.decide(flags, Route(self.model.info.provider, Mode.STREAMING))
        if spec.prompt.size + spec.first_message.size > ctx.settings.llm.max_prompt_chars:
            raise PayloadTooLarge("The agent's prompt is longer than this server accepts.")
        self._ears = Listening(ctx, spec)
        self.speech_ctx = ctx.child(inherit_decision=True)
        """Meters the agent's speech (never written: the session's record carries it)."""
        self.speech_ask = self._voice(spec)
        self.started = time.monotonic()
        self.started_ms = now_ms()
        self.values = variables(spec, self.id, self.started)
        self.turns: list[Turn] = []
        self.reply: Reply | None = None
        self.ended = anyio.Event()
        self.end_reason = "client_closed"
        self.error: SottovoceError | None = None
        self._recorder = (
            Recorder(spec.output, spec.max_duration_s)
            if self.decision.retain and spec.privacy.keeps_audio and not spec.text_only
            else None
        )
        self._tasks: TaskGroup | None = None
        self._speaking_item: str | None = None
        self.clock = CallClock(self.started)
        self.tools = ToolDesk(self)

    def _voice(self, spec: AgentSpec) -> SpeechAsk:
        ask = SpeechAsk(
            output=spec.output or _NO_AUDIO,
            voice_id=spec.voice_id or DEFAULT_VOICE_ID,
            model_id=spec.tts_model,
            mode=Mode.STREAMING,
            keep=False,
        )
        if not spec.text_only:
            Speech(self.speech_ctx, ask)  # the voice and model are checked now
        return ask

    async def reconfigure(self, spec: AgentSpec) -> None:
        """New settings mid-session (OpenAI's ``session.update``); the LLM and the retention
        decision stay as they were decided. A new input format or turn detection starts a new
        listening stream (what the old one held of an unfinished turn is dropped)."""
        voice = self._voice(spec)
        await self._ears.retune(spec)
        self.spec, self.speech_ask = spec, voice

    async def clear(self) -> None:
        """Forget the user's unfinished turn (OpenAI's ``input_audio_buffer.clear``)."""
        await self._ears.commit()
        self._speaking_item = None

    # The session's life ----------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Conversation]:
        """The conversation's tasks (first message, timers) run inside; leaving it ends the
        conversation, whatever the reason: meters it and keeps what the decision allows."""
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                first = render(self.spec.first_message.reveal(), self.values).strip()
                if first:
                    self._start(Reply(self, fixed=first))
                tasks.start_soon(self.clock.watch, self)
                try:
                    yield self
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._finish()

    def end(self, reason: str, error: SottovoceError | None = None) -> None:
        if self.ended.is_set():
            return
        self.end_reason = reason
        if error is not None:
            self.error = error
            self.ctx.usage.record_error(error.code, error.status)
        self.ended.set()

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    # Input, from the surface ------------------------------------------------------------

    async def audio(self, data: Sensitive[bytes]) -> None:
        """User audio in the session's input format."""
        if self.ended.is_set():
            return
        samples = self._ears.samples(data)
        if self._recorder is not None:
            self._recorder.user(samples)
        heard = await self._ears.hear(samples)
        await self.emit(VadScore(round(self._ears.speech_probability, 3)))
        for event in heard:
            await self._heard(event)

    async def _heard(self, event: StreamEvent) -> None:
        kind = event.kind
        if kind is StreamEventKind.SPEECH_STARTED:
            self._speaking_item = f"item_{uuid.uuid4().hex[:20]}"
            self.clock.user_speaking = True
            self.clock.activity()
            if self.spec.interruptions:
                await self.interrupt()
            await self.emit(SpeechStarted(self._speaking_item, event.at))
        elif kind is StreamEventKind.SPEECH_STOPPED:
            self.clock.user_speaking = False
            self.clock.activity()
            await self.emit(SpeechStopped(self._speaking_item or "", event.at))
        elif kind is StreamEventKind.PARTIAL:
            text = event.transcript.reveal().text
            if text:
                await self.emit(UserPartial(self._speaking_item or "", Sensitive(text)))
        else:
            await self._user_said(event.transcript.reveal().text, spoken=True)

    async def commit(self) -> str:
        """End the user's turn now (no server turn detection); the new turn's item id."""
        item = self._speaking_item or f"item_{uuid.uuid4().hex[:20]}"
        event = await self._ears.commit()
        await self._user_said(event.transcript.reveal().text, spoken=True, item_id=item)
        return item

    async def _user_said(self, text: str, *, spoken: bool, item_id: str | None = None) -> None:
        item = item_id or self._speaking_item or f"item_{uuid.uuid4().hex[:20]}"
        self._speaking_item = None
        self.clock.activity()
        if not text.strip():
            return
        self.turns.append(Turn("user", text.strip(), self.now(), item, spoken=spoken))
        await self.emit(UserTurn(item, Sensitive(text.strip()), spoken))
        if self.spec.auto_respond:
            await self.interrupt()
            self.respond()

    async def user_text(self, text: Sensitive[str], *, respond: bool = True) -> str:
        """A typed user message: it cuts the agent off and (``respond``) is answered."""
        item = f"item_{uuid.uuid4().hex[:20]}"
        await self.interrupt()
        self.clock.activity()
        self.turns.append(Turn("user", text.reveal(), self.now(), item))
        await self.emit(UserTurn(item, text, False))
        if respond:
            self.respond()
        return item

    def context_update(self, text: Sensitive[str]) -> None:
        """Something the agent should know, without answering it."""
        self.turns.append(Turn("context", text.reveal(), self.now()))

    def activity(self) -> None:
        self.clock.activity()

    def tool_result(self, call_id: str, result: Sensitive[str], is_error: bool = False) -> None:
        """The client's answer to a tool call the agent waits for."""
        self.tools.result(call_id, result, is_error)

    def tool_output(self, call_id: str, name: str, output: Sensitive[str]) -> None:
        """A tool's result the client adds as an item (OpenAI), answered by a later reply."""
        self.turns.append(Turn("tool_result", output.reveal(), self.now(), call_id, name=name))

    def respond(self, *, instructions: str | None = None) -> Reply:
        """Start a reply now (the agent's turn); ``instructions``: for this reply only."""
        if self.reply is not None and not self.reply.done.is_set():
            raise InvalidRequest("A reply is already in progress.", fields=("response",))
        extra = (ChatMessage("system", Sensitive(instructions)),) if instructions else ()
        return self._start(Reply(self, extra=extra))

    async def interrupt(self, *, tell: bool = True) -> None:
        """Cut the agent off now: its audio stops and the LLM will see only what was heard."""
        reply = self.reply
        if reply is None or (reply.done.is_set() and reply.played() >= reply.audio_s):
            return
        played = reply.played()
        finished = reply.done.is_set()  # written and sent, but still playing
        reply.cancel()
        if self._recorder is not None and reply.first_audio_at is not None:
            self._recorder.cut(reply.first_audio_at - self.started + played)
        spoken = self._spoken_until(reply, played)
        if tell:
            await self.emit(
                Interrupted(
                    reply.response_id,
                    reply.item_id,
                    round(played, 3),
                    Sensitive(reply.text.strip()),
                    Sensitive(spoken),
                    finished,
                )
            )
        await reply.done.wait()

    def truncate(self, item_id: str, audio_end_s: float) -> None:
        """The client says how much of a reply it played (OpenAI's truncate)."""
        turn = next((t for t in self.turns if t.role == "agent" and t.item_id == item_id), None)
        if turn is None or turn.reply is None:
            raise InvalidRequest("No agent item with this id.", fields=("item_id",))
        self._spoken_until(turn.reply, audio_end_s)

    # Replies ---------------------------------------------------------------------------

    def _start(self, reply: Reply) -> Reply:
        assert self._tasks is not None
        self.reply = reply
        self.clock.nudged = self.clock.nudged and reply.extra != ()
        self._tasks.start_soon(self._run_reply, reply)
        return reply

    async def _run_reply(self, reply: Reply) -> None:
        await self.emit(ReplyStarted(reply.response_id, reply.item_id))
        turn = Turn("agent", "", self.now(), reply.item_id, reply=reply)
        self.turns.append(turn)
        await reply.run()
        if not reply.cancelled:
            turn.text = reply.text.strip()
        elif not turn.interrupted:
            self._spoken_until(reply, reply.played())
        for name, arguments, result in reply.exchanges:
            self.turns.append(Turn("tool_call", arguments, self.now(), name=name))
            self.turns.append(Turn("tool_result", result, self.now(), name=name))
        self.clock.reply_ended(reply)
        await self.emit(
            ReplyDone(
                reply.response_id,
                reply.item_id,
                reply.status,
                Sensitive(reply.text.strip()),
                Sensitive(turn.text),
                reply.prompt_tokens,
                reply.completion_tokens,
                reply.error.code if reply.error else None,
            )
        )
        if reply.error is not None and self.spec.end_call_on_error:
            self.end("error", reply.error)
        elif reply.call is not None and reply.call.name == END_CALL:
            await anyio.sleep(max(0.0, reply.playing_until - time.monotonic()))
            self.end("end_call")

    def _spoken_until(self, reply: Reply, played: float) -> str:
        """Keep only what was heard of a reply in the conversation; that text."""
        spoken = reply.spoken(played)
        turn = next((t for t in self.turns if t.reply is reply), None)
        if turn is not None:
            turn.text = spoken
            turn.interrupted = True
        return spoken

    async def run_tool(self, reply: Reply, call: CallRequest) -> str | None:
        """Called by a reply whose LLM asked for a tool: the result, or ``None`` when the reply
        ends with the call (``end_call``, an unknown tool, one whose answer is not awaited)."""
        return await self.tools.run(reply, call)

    def llm_messages(self) -> tuple[ChatMessage, ...]:
        """The system prompt and the conversation so far, as the LLM sees it."""
        return llm_messages(self.spec, self.values, self.turns, self.reply)

    # Audio bookkeeping (called by replies) ---------------------------------------------

    def reply_plays(self, reply: Reply) -> None:
        if self._recorder is not None and reply.first_audio_at is not None:
            self._recorder.reply_starts(reply.first_audio_at - self.started)

    def record_agent_audio(self, data: bytes) -> None:
        if self._recorder is not None:
            self._recorder.agent(data)

    def seconds_of(self, data: bytes) -> float:
        output = self.spec.output
        if output is None:
            return 0.0
        width = 1 if output.codec in (Codec.MULAW, Codec.ALAW) else 2
        return len(data) / width / output.sample_rate

    def nudge(self, instruction: str) -> None:
        """Have the agent say something the caller did not ask for (the turn timeout's)."""
        self._start(Reply(self, extra=(ChatMessage("system", Sensitive(instruction)),)))

    # The end ---------------------------------------------------------------------------

    async def _finish(self) -> None:
        if self.reply is not None and not self.reply.done.is_set():
            await self.interrupt(tell=False)
        self.tools.release()
        await self._ears.close()
        usage = self.ctx.usage
        usage.add_input(round(self._ears.audio_seconds, 3), "audio_seconds")
        usage.add_output(round(self.speech_ctx.usage.output_units, 3), "audio_seconds")
        if self.ctx.retaining:
            recording = self._recorder.wav() if self._recorder is not None else None
            names = name_values(self.values)
            await keep_conversation(self, recording, names)
        if self._recorder is not None:
            self._recorder.clear()
        self.turns.clear()
        self.values.clear()

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
