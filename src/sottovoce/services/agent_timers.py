"""A conversation's clock: its maximum duration, the turn timeout (after a silence the agent
asks whether the caller is still there, once until the caller answers) and the silence that
ends the call. Silence is counted from the caller's last activity or the end of the agent's
last played audio, whichever is later; neither timer runs while someone is speaking."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio

from sottovoce.services.agent_reply import Reply

if TYPE_CHECKING:
    from sottovoce.services.agent import Conversation

NUDGE = "The user has not said anything for a while. Briefly ask whether they are still there."


class CallClock:
    def __init__(self, started: float) -> None:
        self.started = started
        self.last_activity = started
        self.nudged = False
        """The agent has asked since the caller's last activity."""
        self.user_speaking = False

    def activity(self) -> None:
        """The caller did something (spoke, typed, or said it is there)."""
        self.last_activity = time.monotonic()
        self.nudged = False

    def reply_ended(self, reply: Reply) -> None:
        self.last_activity = max(self.last_activity, reply.playing_until)

    def _busy(self, reply: Reply | None, now: float) -> bool:
        replying = reply is not None and (not reply.done.is_set() or now < reply.playing_until)
        return self.user_speaking or replying

    async def watch(self, call: Conversation) -> None:
        """Until the call ends: end it, or have the agent ask, when a timer runs out."""
        while not call.ended.is_set():
            await anyio.sleep(0.1)
            now = time.monotonic()
            spec = call.spec
            if now - self.started >= spec.max_duration_s:
                call.end("max_duration_exceeded")
                return
            if self._busy(call.reply, now):
                continue
            idle = now - self.last_activity
            if 0 < spec.silence_end_call_s <= idle:
                call.end("silence_timeout")
                return
            if 0 < spec.turn_timeout_s <= idle and not self.nudged and call.turns:
                self.nudged = True
                call.nudge(NUDGE)
