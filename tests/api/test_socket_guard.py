"""The socket guard ends a socket whose handler is busy: it closes it itself after the grace
period; a client that has already gone by then is no error, and the handler is stopped.

In-process, over the guard's ASGI channel. The ASGI server is played by two functions: a real
uvicorn raises ``ClientDisconnected`` from ``send`` once its client has gone, but when that
happens relative to the grace period depends on the machine's load (it was seen in a loaded test
run as an ``ExceptionGroup`` logged at ERROR during a drain), so here it is made to happen."""

from __future__ import annotations

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.utils import ClientDisconnected

from sottovoce.api.socket_guard import SocketGuard
from sottovoce.errors import ServerDraining
from sottovoce.services.sessions import OpenSessions

GRACE_S = 0.05


class Channel:
    """The ASGI server's side: the messages sent, or what ``send`` raises once the client is
    gone (``gone``)."""

    def __init__(self, gone: type[Exception] | None = None) -> None:
        self.gone = gone
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        if self.gone is not None:
            raise self.gone()
        self.sent.append(message)


class BusyHandler:
    """A handler deep in an engine call: it neither reads nor closes for a while."""

    def __init__(self) -> None:
        self.finished = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.sleep(10 * GRACE_S)
        self.finished = True


def serve_and_drain(channel: Channel) -> tuple[SocketGuard, BusyHandler]:
    guard = SocketGuard(channel.receive, channel.send, OpenSessions(), GRACE_S)
    handler = BusyHandler()

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(guard.serve, handler, {"type": "websocket"})
            await anyio.sleep(0)
            guard.end(ServerDraining(), 1001)

    anyio.run(run)
    return guard, handler


def test_a_busy_handler_s_socket_is_closed_as_going_away_after_the_grace_period() -> None:
    channel = Channel()
    guard, handler = serve_and_drain(channel)
    assert channel.sent == [{"type": "websocket.close", "code": 1001, "reason": "server_draining"}]
    assert isinstance(guard.ended_by, ServerDraining)
    # Closed under it; it ends at its next read (which sees the client gone).
    assert handler.finished


@pytest.mark.parametrize("error", [ClientDisconnected, RuntimeError])
def test_a_client_already_gone_when_the_guard_closes_is_not_an_error(
    error: type[Exception],
) -> None:
    channel = Channel(gone=error)
    guard, handler = serve_and_drain(channel)  # raises (an ExceptionGroup) if it gets out
    assert isinstance(guard.ended_by, ServerDraining)
    # Nobody is left to answer: the handler is stopped, as a hang-up stops it.
    assert not handler.finished
