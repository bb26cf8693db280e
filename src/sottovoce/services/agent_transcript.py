"""What a retained conversation leaves behind: its transcript (redacted first, if the agent asks)
and its recording, as one history item, and the conversation's record beside it.

Called once, when the conversation ends, only when the retention decision allows it. Redaction
runs here, in memory, on every text before the history item is built: the unredacted transcript
never reaches the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.redaction import redact, spoken_names
from sottovoce.store import conversations
from sottovoce.store.conversations import ConversationMeta
from sottovoce.store.history import HistoryContent

if TYPE_CHECKING:
    from sottovoce.services.agent import Conversation

_ROLES = {"user": "user", "agent": "agent", "tool_call": "agent", "tool_result": "user"}


def transcript(conv: Conversation, names: list[str]) -> list[dict[str, Any]]:
    """The conversation in ElevenLabs' transcript shape, redacted when the agent asks."""
    privacy = conv.spec.privacy
    if privacy.redact_pii:
        names = [*names, *(n for t in conv.turns if t.role == "user" for n in spoken_names(t.text))]

    def clean(text: str) -> str:
        return redact(text, names) if privacy.redact_pii else text

    out: list[dict[str, Any]] = []
    for turn in conv.turns:
        if turn.role not in _ROLES or (turn.role == "agent" and not turn.text):
            continue
        entry: dict[str, Any] = {
            "role": _ROLES[turn.role],
            "message": clean(turn.text) if turn.role in ("user", "agent") else None,
            "time_in_call_secs": int(turn.at),
            "interrupted": turn.interrupted,
            "source_medium": "audio" if turn.spoken or turn.role == "agent" else "text",
        }
        if turn.role == "tool_call":
            entry["tool_calls"] = [{"tool_name": turn.name, "params_as_json": clean(turn.text)}]
        if turn.role == "tool_result":
            entry["tool_results"] = [{"tool_name": turn.name, "result_value": clean(turn.text)}]
        out.append(entry)
    return out


async def keep_conversation(conv: Conversation, recording: bytes | None, names: list[str]) -> None:
    turns = transcript(conv, names)
    messages = [t for t in turns if t["message"]]
    if not messages:
        return
    text = "\n".join(f"{t['role']}: {t['message']}" for t in messages)
    status = "failed" if conv.end_reason == "error" else "done"
    item_id = await conv.ctx.retain(
        HistoryContent(
            source=HistorySource.AGENT,
            model_id=conv.model.info.model_id,
            voice_id=conv.spec.voice_id,
            text=Sensitive(text),
            audio=Sensitive(recording) if recording else None,
            content_type="audio/wav" if recording else None,
            output_format="wav_16000" if recording else None,
            settings={"agent_id": conv.spec.agent_id, "conversation_id": conv.id},
            details=Sensitive({"transcript": turns}),
        )
    )
    privacy = conv.spec.privacy
    meta = ConversationMeta(
        id=conv.id,
        workspace_id=conv.ctx.workspace.id,
        agent_id=conv.spec.agent_id or "",
        history_item_id=item_id,
        started_at_ms=conv.started_ms,
        duration_ms=conv.duration_ms,
        message_count=len(messages),
        status=status,
        termination_reason=conv.end_reason,
        has_audio=recording is not None,
        expires_at_ms=conversations.expiry(conv.started_ms, privacy.retention_days),
    )
    await conv.ctx.run_in_session(lambda s: conversations.record(s, meta))
