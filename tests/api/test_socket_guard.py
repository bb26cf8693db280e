"""The socket guard ends a socket whose handler is busy: it closes it itself after the grace
period; a client that has already gone by then is no error, and the handler is stopped. And it
reads a busy handler's messages ahead of it, up to a limit.

In-process, over the guard's ASGI channel. The ASGI server is played by two functions: a real
uvicorn raises ``ClientDisconnected`` from ``send`` once its client has gone, but when that
happens relative to the grace period depends on the machine's load (it was seen in a loaded test
run as an ``ExceptionGroup`` logged at ERROR during a drain), so here it is made to happen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.utils import ClientDisconnected

from sottovoce.api.socket_guard import READ_AHEAD_BYTES, SocketGuard
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


class Client:
    """The ASGI server's side of a socket whose client sends ``messages`` and then waits."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = list(messages)
        self.read = 0

    async def receive(self) -> Message:
        if self.read < len(self.messages):
            self.read += 1
            return self.messages[self.read - 1]
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        pass


def text(i: int, size: int = 10) -> Message:
    return {"type": "websocket.receive", "text": f"{i:0{size}d}"}


def serve(client: Client, handler: Callable[[Receive], Awaitable[None]]) -> None:
    guard = SocketGuard(client.receive, client.send, OpenSessions(), GRACE_S)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await handler(receive)

    anyio.run(guard.serve, app, {"type": "websocket"})


def test_messages_are_read_while_the_handler_is_busy_and_handed_over_in_order() -> None:
    """The server keeps reading the connection (its keepalive pongs too) during a long decode."""
    sent = [text(i) for i in range(50)] + [{"type": "websocket.disconnect", "code": 1000}]
    client = Client(sent)
    seen: list[Message] = []
    read_while_busy: list[int] = []

    async def handler(receive: Receive) -> None:
        seen.append(await receive())
        await anyio.sleep(0.2)  # a decode
        read_while_busy.append(client.read)
        while seen[-1]["type"] != "websocket.disconnect":
            seen.append(await receive())
        seen.append(await receive())  # asked again after the disconnect: gone

    serve(client, handler)
    assert read_while_busy == [len(sent)]
    assert seen[:-1] == sent
    assert seen[-1]["type"] == "websocket.disconnect"


def test_reading_ahead_stops_at_its_byte_limit() -> None:
    size = READ_AHEAD_BYTES // 8
    client = Client([text(i, size) for i in range(40)])
    read_while_busy: list[int] = []

    async def handler(receive: Receive) -> None:
        await anyio.sleep(0.2)  # busy, reading nothing
        read_while_busy.append(client.read)
        for _ in range(20):
            await receive()
        await anyio.sleep(0.1)
        read_while_busy.append(client.read)

    serve(client, handler)
    # The limit, and the one message read past it; as the handler takes messages, reading
    # goes on, up to the limit again.
    assert read_while_busy == [9, 29]
