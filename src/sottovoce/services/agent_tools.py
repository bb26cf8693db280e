"""Tool calls of a conversation: the client's tools and the built-in ``end_call``.

A reply whose LLM writes a tool call asks here. ``end_call`` (when the agent offers it) ends the
reply, and the call once what was said before it has played. A client tool is announced to the
client (``ToolCall``); when the agent expects its answer the reply waits for the client's
result (at most the tool's timeout, then it goes on with an error as the result); otherwise the
call ends the reply and its result comes later as an item of the conversation (OpenAI).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio

from sottovoce.errors import InvalidRequest
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_events import ToolCall
from sottovoce.services.agent_history import Turn
from sottovoce.services.agent_spec import END_CALL

if TYPE_CHECKING:
    from sottovoce.services.agent import Conversation
    from sottovoce.services.agent_reply import CallRequest, Reply


class ToolDesk:
    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self._waiting: dict[str, tuple[anyio.Event, list[str]]] = {}

    async def run(self, reply: Reply, call: CallRequest) -> str | None:
        conv = self.conv
        if call.name == END_CALL and conv.spec.end_call:
            return None
        tool = next((t for t in conv.spec.tools if t.name == call.name), None)
        if tool is None:
            return None
        call_id = f"call_{uuid.uuid4().hex[:20]}"
        args: Sensitive[Mapping[str, Any]] = Sensitive(dict(call.arguments))
        if not tool.expects_response:
            arguments = json.dumps(call.arguments)
            conv.turns.append(Turn("tool_call", arguments, conv.now(), call_id, name=tool.name))
            await conv.emit(ToolCall(reply.response_id, call_id, tool.name, args, False))
            return None
        event, box = anyio.Event(), list[str]()
        self._waiting[call_id] = (event, box)
        try:
            await conv.emit(ToolCall(reply.response_id, call_id, tool.name, args, True))
            with anyio.move_on_after(tool.response_timeout_s):
                await event.wait()
        finally:
            self._waiting.pop(call_id, None)
        return box[0] if box else "Error: the tool did not answer in time."

    def result(self, call_id: str, result: Sensitive[str], is_error: bool) -> None:
        waiting = self._waiting.get(call_id)
        if waiting is None:
            raise InvalidRequest("No tool call is waiting for this id.", fields=("tool_call_id",))
        event, box = waiting
        box.append(("Error: " if is_error else "") + result.reveal())
        event.set()

    def release(self) -> None:
        """The conversation is over: every reply still waiting for a result stops waiting."""
        for event, _box in self._waiting.values():
            event.set()
