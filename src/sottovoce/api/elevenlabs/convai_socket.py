"""ElevenLabs Agents' conversation socket: ``WS /v1/convai/conversation?agent_id=``.

Auth: the ``xi-api-key`` header (or ``?xi_api_key=``), or a signed URL's
``conversation_signature`` (single use, short-lived: ``GET /v1/convai/conversation/
get-signed-url``). The client's messages: ``conversation_initiation_client_data``
(``conversation_config_override``, ``dynamic_variables``), ``{"user_audio_chunk": base64}``
(PCM in the agent's ``user_input_audio_format``, 16 kHz by default), ``pong``,
``user_message``, ``contextual_update``, ``user_activity``, ``client_tool_result``. The
server's: ``conversation_initiation_metadata``, ``audio`` (with the characters' alignment),
``agent_response``, ``agent_chat_response_part``, ``agent_response_correction`` (what was
actually heard, after an interruption), ``user_transcript``, ``interruption``, ``ping``,
``vad_score``, ``client_tool_call``.

The conversation itself (turns, barge-in, retention) is :class:`~sottovoce.services.agent.
Conversation`; this module translates. A message that cannot be read (not JSON, a binary frame,
too large, bad base64) ends the call with the close code of its error class; the server closes
with 1000 when the agent ends the call (``end_call``, maximum duration, silence) and 1011 when
the LLM or an engine failed. The close reason is our error code, never content.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api.deps import authenticate_by_key, context_for, meter_of, services_of
from sottovoce.api.elevenlabs import agent_doc
from sottovoce.api.sockets import SocketIO, close_code
from sottovoce.errors import InvalidRequest, SottovoceError, Unauthorized
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent import Conversation
from sottovoce.services.agent_events import (
    AgentEvent,
    Interrupted,
    ReplyAudio,
    ReplyDone,
    ReplyStarted,
    ReplyText,
    ToolCall,
    UserTurn,
    VadScore,
)
from sottovoce.services.context import RequestContext
from sottovoce.store import agents, keys, signed_urls
from sottovoce.store.agents import StoredAgent

router = APIRouter(tags=["ElevenLabs: agents (WebSocket)"])
INITIATION = "conversation_initiation_client_data"


async def _authenticate(websocket: WebSocket) -> tuple[RequestContext, StoredAgent]:
    query = websocket.query_params
    agent_id = query.get("agent_id") or ""
    signature = query.get("conversation_signature")
    if signature:
        services = services_of(websocket)
        grant = await services.in_session(lambda s: signed_urls.redeem(s, signature))
        if grant is None or (agent_id and grant.agent_id != agent_id):
            raise Unauthorized("The signed URL is unknown, used or expired.")
        found = await services.in_session(lambda s: keys.by_id(s, grant.key_id))
        if found is None:
            raise Unauthorized()
        ctx = context_for(websocket, Product.AGENT, *found)
        agent_id = grant.agent_id
    else:
        ctx = await authenticate_by_key(websocket, Product.AGENT)
    if not agent_id or len(agent_id) > 80:
        raise InvalidRequest("agent_id is required.", fields=("agent_id",))
    agent = await ctx.run_in_session(lambda s: agents.get(s, ctx.workspace.id, agent_id))
    return ctx, agent


def _alignment(event: ReplyAudio) -> dict[str, list[Any]] | None:
    chars = event.alignment.reveal() if event.alignment is not None else ()
    if not chars:
        return None
    return {
        "chars": [c for c, _, _ in chars],
        "char_start_times_ms": [max(0, round((s - event.start) * 1000)) for _, s, _ in chars],
        "char_durations_ms": [max(0, round((e - s) * 1000)) for _, s, e in chars],
    }


def _text(message: Mapping[str, Any], field: str, limit: int = 20_000) -> Sensitive[str]:
    value = message.get(field)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequest(f"{field} must be text.", fields=(field,))
    return Sensitive(value)


class _Socket:
    def __init__(self, io: SocketIO, ctx: RequestContext, agent: StoredAgent) -> None:
        self.io = io
        self.ctx = ctx
        self.agent = agent
        self.conv: Conversation
        self._event_id = 0
        self._cancelled: set[str] = set()
        self._pings: dict[int, float] = {}
        self._ping_ms: int | None = None

    def _next_id(self) -> int:
        self._event_id += 1
        return self._event_id

    async def emit(self, event: AgentEvent) -> None:
        send = self.io.send_json
        if isinstance(event, ReplyAudio):
            # Checked and numbered without a pause: audio of an interrupted reply never gets
            # an id above its interruption's, so the SDK drops any that is still in flight.
            if event.response_id in self._cancelled:
                return
            audio = {"audio_base_64": base64.b64encode(event.data.reveal()).decode()}
            audio["event_id"] = self._next_id()  # type: ignore[assignment]
            aligned = _alignment(event)
            if aligned is not None:
                audio["alignment"] = aligned  # type: ignore[assignment]
            await send({"type": "audio", "audio_event": audio})
        elif isinstance(event, Interrupted):
            self._cancelled.add(event.response_id)
            await send(
                {"type": "interruption", "interruption_event": {"event_id": self._next_id()}}
            )
        elif isinstance(event, ReplyStarted):
            part = {"text": "", "type": "start"}
            await send({"type": "agent_chat_response_part", "text_response_part": part})
        elif isinstance(event, ReplyText):
            part = {"text": event.text.reveal(), "type": "delta"}
            await send({"type": "agent_chat_response_part", "text_response_part": part})
        elif isinstance(event, ReplyDone):
            await self._reply_done(event)
        elif isinstance(event, UserTurn) and event.spoken:
            transcript = {"user_transcript": event.text.reveal(), "event_id": self._next_id()}
            await send({"type": "user_transcript", "user_transcription_event": transcript})
        elif isinstance(event, ToolCall):
            call = {
                "tool_name": event.name,
                "tool_call_id": event.call_id,
                "parameters": dict(event.arguments.reveal()),
                "expects_response": event.expects_response,
                "event_id": self._next_id(),
            }
            await send({"type": "client_tool_call", "client_tool_call": call})
        elif isinstance(event, VadScore):
            await send({"type": "vad_score", "vad_score_event": {"vad_score": event.score}})

    async def _reply_done(self, event: ReplyDone) -> None:
        send = self.io.send_json
        text, spoken = event.text.reveal(), event.spoken.reveal()
        part = {"text": "", "type": "stop"}
        await send({"type": "agent_chat_response_part", "text_response_part": part})
        if text:
            response = {"agent_response": text, "event_id": self._next_id()}
            await send({"type": "agent_response", "agent_response_event": response})
        if event.status == "cancelled":
            await self._correction(text, spoken)

    async def _correction(self, text: str, spoken: str) -> None:
        if not text or spoken == text:
            return
        correction = {
            "original_agent_response": text,
            "corrected_agent_response": spoken,
            "event_id": self._next_id(),
        }
        await self.io.send_json(
            {"type": "agent_response_correction", "agent_response_correction_event": correction}
        )

    async def handle(self, message: Mapping[str, Any]) -> None:
        conv = self.conv
        if "user_audio_chunk" in message:
            encoded = message["user_audio_chunk"]
            if not isinstance(encoded, str):
                raise InvalidRequest(
                    "user_audio_chunk must be base64.", fields=("user_audio_chunk",)
                )
            try:
                audio = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRequest(
                    "user_audio_chunk is not valid base64.", fields=("user_audio_chunk",)
                ) from None
            await conv.audio(Sensitive(audio))
            return
        kind = message.get("type")
        if kind == "pong":
            sent = self._pings.pop(message.get("event_id"), None)  # type: ignore[arg-type]
            if sent is not None:
                self._ping_ms = int((time.monotonic() - sent) * 1000)
        elif kind == "user_message":
            await conv.user_text(_text(message, "text"))
        elif kind == "contextual_update":
            conv.context_update(_text(message, "text"))
        elif kind == "user_activity":
            conv.activity()
        elif kind == "client_tool_result":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise InvalidRequest("tool_call_id is required.", fields=("tool_call_id",))
            result = message.get("result")
            text = result if isinstance(result, str) else json.dumps(result)
            conv.tool_result(call_id, Sensitive(text), message.get("is_error") is True)
        # Other message types (feedback, a late initiation) are accepted and ignored.

    async def _ping(self) -> None:
        interval = self.ctx.settings.agents.ping_interval_s
        while True:
            await anyio.sleep(interval)
            event_id = self._next_id()
            self._pings[event_id] = time.monotonic()
            ping = {"event_id": event_id, "ping_ms": self._ping_ms}
            await self.io.send_json({"type": "ping", "ping_event": ping})

    async def _read(self, pending: list[Mapping[str, Any]]) -> None:
        idle = self.ctx.settings.agents.socket_idle_seconds
        try:
            for message in pending:
                await self.handle(message)
            while not self.io.gone:
                await self.handle(await self.io.receive_json(idle))
            # A send found the client gone while a message was being handled: the call is
            # over too (else it waited for the agent's maximum duration, holding its place).
            self.conv.end("client_closed")
        except WebSocketDisconnect:
            self.conv.end("client_closed")
        except SottovoceError as exc:
            self.conv.end("error", exc)

    async def serve(self, first: Mapping[str, Any] | None) -> None:
        settings = self.ctx.settings
        initiation = first if first is not None and first.get("type") == INITIATION else None
        pending = [first] if first is not None and initiation is None else []
        overrides = (initiation or {}).get("conversation_config_override")
        variables = (initiation or {}).get("dynamic_variables")
        doc = self.agent.document.reveal()
        spec = agent_doc.spec(
            doc,
            self.agent.privacy,
            settings.llm.max_prompt_chars,
            agent_id=self.agent.id,
            overrides=overrides if isinstance(overrides, Mapping) else None,
            variables=variables if isinstance(variables, Mapping) else None,
            max_duration_s=settings.agents.max_duration_s,
            end_of_turn_silence_s=settings.agents.end_of_turn_silence_s,
        )
        self.conv = conv = Conversation(self.ctx, spec, self.emit)
        output = agent_doc.output_format(doc).name
        user_format = agent_doc._section(doc, "conversation_config", "asr").get(
            "user_input_audio_format"
        )
        metadata = {
            "conversation_id": conv.id,
            "agent_output_audio_format": output,
            "user_input_audio_format": user_format or "pcm_16000",
        }
        await self.io.send_json(
            {
                "type": "conversation_initiation_metadata",
                "conversation_initiation_metadata_event": metadata,
            }
        )
        async with conv.running(), anyio.create_task_group() as tasks:
            tasks.start_soon(self._ping)
            tasks.start_soon(self._read, pending)
            await conv.ended.wait()
            tasks.cancel_scope.cancel()
        if conv.error is not None:
            await self.io.close(close_code(conv.error), conv.error.code)
        else:
            await self.io.close(1000, conv.end_reason)


@router.websocket("/v1/convai/conversation")
async def conversation(websocket: WebSocket) -> None:
    await websocket.accept()
    settings = services_of(websocket).settings.agents
    io = SocketIO(websocket, settings.max_socket_message_bytes)
    meter = meter_of(websocket)
    try:
        ctx, agent = await _authenticate(websocket)
        # The SDK opens with its initiation message; a client that does not is served too.
        first = await io.receive_json(settings.socket_idle_seconds)
        socket = _Socket(io, ctx, agent)
        await socket.serve(first)
    except WebSocketDisconnect:
        meter.cancelled = True
    except SottovoceError as exc:
        meter.record_error(exc.code, exc.status)
        await io.close(close_code(exc), exc.code)
