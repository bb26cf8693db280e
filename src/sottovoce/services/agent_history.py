"""The conversation so far, as it is kept in memory and as the LLM sees it.

Every entry is a :class:`Turn`: the user's words (spoken or typed), the agent's (only what was
heard of them, after an interruption), a contextual update, a tool call or its result. The LLM
gets the system prompt (dynamic variables filled in, the tools offered) and then these turns,
the agent's as it was heard: a reply cut off after three words is three words in its history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sottovoce.engines.base import ChatMessage
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_spec import END_CALL, AgentSpec, render

if TYPE_CHECKING:
    from sottovoce.services.agent_reply import Reply

OPEN, CLOSE = "<tool_call>", "</tool_call>"


@dataclass
class Turn:
    """One entry of the conversation: the user's words, the agent's (as heard), a contextual
    update, a tool call or its result."""

    role: str
    """``user``, ``agent``, ``context``, ``tool_call`` or ``tool_result``."""
    text: str
    at: float
    """Seconds since the conversation began."""
    item_id: str = ""
    interrupted: bool = False
    spoken: bool = False
    """Said aloud (user speech), rather than typed."""
    name: str = ""
    """The tool's name (tool calls and results)."""
    reply: Reply | None = field(default=None, repr=False)


def tool_prompt(tools: list[tuple[str, str, Mapping[str, Any]]]) -> str:
    """The part of the system prompt that offers the tools, in the form a reply scans for."""
    lines = [
        "You can use tools. To use one, answer with only this, on one line:",
        f'{OPEN}{{"name": "TOOL", "arguments": {{...}}}}{CLOSE}',
        "Tools:",
    ]
    lines += [f"- {name}: {about} Arguments: {json.dumps(schema)}" for name, about, schema in tools]
    return "\n".join(lines)


def tool_call_text(name: str, arguments: str) -> str:
    """A tool call as the LLM wrote it (``arguments``: JSON)."""
    return f'{OPEN}{{"name": "{name}", "arguments": {arguments}}}{CLOSE}'


def llm_messages(
    spec: AgentSpec, values: Mapping[str, str], turns: list[Turn], current: Reply | None
) -> tuple[ChatMessage, ...]:
    """The system prompt and the conversation so far (without the reply being written)."""
    system = render(spec.prompt.reveal(), values)
    tools = [(t.name, t.description, t.parameters) for t in spec.tools]
    if spec.end_call:
        tools.append((END_CALL, "End the call when the conversation is over.", {}))
    if tools:
        system += "\n\n" + tool_prompt(tools)
    messages = [ChatMessage("system", Sensitive(system))]
    for turn in turns:
        if turn.role == "user":
            messages.append(ChatMessage("user", Sensitive(turn.text)))
        elif turn.role == "agent" and turn.text and turn.reply is not current:
            messages.append(ChatMessage("assistant", Sensitive(turn.text)))
        elif turn.role == "context":
            messages.append(ChatMessage("system", Sensitive(f"Context: {turn.text}")))
        elif turn.role == "tool_call":
            messages.append(
                ChatMessage("assistant", Sensitive(tool_call_text(turn.name, turn.text)))
            )
        elif turn.role == "tool_result":
            result = f"[result of {turn.name}] {turn.text}"
            messages.append(ChatMessage("user", Sensitive(result)))
    return tuple(messages)
