"""The request lifecycle, as one pure ASGI middleware.

For every HTTP request and WebSocket: a request id (``request-id`` header, and in every log
line), body size limits, a last-resort error response that says nothing of the request, one
content-free access log line, and the usage record written after the response is fully sent
(or the client went away).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sottovoce.api.admin.metrics import Metrics
from sottovoce.api.deps import METER, TICKET, route_product
from sottovoce.api.drain import EXEMPT_PATHS, GOING_AWAY, RETRY_AFTER_S, Drain
from sottovoce.api.errors import BODY_TOO_LARGE, error_body
from sottovoce.api.slow_clients import BodyDeadline
from sottovoce.api.socket_guard import GUARD, SocketGuard
from sottovoce.api.surface import Mounted, sottovoce_error
from sottovoce.errors import PayloadTooLarge, ServerDraining, SottovoceError
from sottovoce.privacy.logging import error_fields, log_event, request_id_var
from sottovoce.services.admission import Ticket
from sottovoce.services.context import Services
from sottovoce.services.meter import UsageMeter
from sottovoce.store.ids import new_request_id, now_ms

log = logging.getLogger("sottovoce.http")


def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


RETENTION_HEADER = b"x-sottovoce-retention"
"""Who saw the content and what they declare for its mode: ``none; provider=local;
mode=sync``, ``zdr-by-agreement; provider=deepgram; mode=streaming``..."""
UNCOVERED_HEADER = b"x-sottovoce-retention-covered"
"""``false`` when a zero-retention request went to a provider that does not declare zero
retention for its mode (the workspace admin allowed uncovered providers)."""


NO_STORE = (b"cache-control", b"no-store")
CLIENT_CLOSED = 499
"""The status recorded for a request whose client hung up before any answer (nginx's "client
closed request"): nothing was sent, and nothing failed on our side."""


def _retention(meter: UsageMeter) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    if meter.route is not None:
        headers.append((RETENTION_HEADER, meter.route.encode()))
    if meter.provider_uncovered:
        headers.append((UNCOVERED_HEADER, b"false"))
    return headers


class RequestLifecycle:
    def __init__(
        self,
        app: ASGIApp,
        services: Services,
        surfaces: Mounted,
        metrics: Metrics,
        drain: Drain | None = None,
    ) -> None:
        self.app = app
        self.services = services
        self.surfaces = surfaces
        self.metrics = metrics
        self.drain = drain or Drain(0.0, 0.0)
        self.audio_json_paths = surfaces.audio_json_paths()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        token = request_id_var.set(request_id)
        meter = UsageMeter(request_id=request_id, started_at_ms=now_ms())
        scope[METER] = meter
        started = time.perf_counter()
        state: dict[str, Any] = {
            "status": None,
            "complete": False,
            "disconnected": False,
            "body_read": False,
            "cut_body": False,
        }
        limits = self.services.settings.limits
        json_limited = _is_json(scope) and scope.get("path") not in self.audio_json_paths
        limit = limits.max_json_bytes if json_limited else limits.max_body_bytes
        received = 0
        header = (b"request-id", request_id.encode())

        if scope["type"] == "http":
            server = self.services.settings.server
            receive = BodyDeadline(
                scope, receive, server.body_idle_timeout_s, server.body_timeout_s
            )

        async def receive_limited() -> Message:
            nonlocal received
            if received > limit:
                scope[BODY_TOO_LARGE] = True
                raise PayloadTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                state["body_read"] = not message.get("more_body", False)
                received += len(message.get("body", b""))
                if received > limit:
                    scope[BODY_TOO_LARGE] = True
                    raise PayloadTooLarge()
            elif message["type"] == "http.disconnect" and not state["body_read"]:
                # Gone before its body was all here: whatever the route answers (a parse error,
                # ClientDisconnect) reaches nobody, and the request counts as cut short.
                state["disconnected"] = state["cut_body"] = True
            elif message["type"] == "websocket.disconnect" and not state["complete"]:
                # A client's normal close ends a session as surely as ours does. (After ours,
                # a disconnect is the client's answer to it, read ahead by the socket's guard.)
                if message.get("code") in (1000, 1001):
                    state["complete"] = True
                else:
                    state["disconnected"] = True
            return message

        async def send_tracked(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                state["status"] = message["status"]
                headers = message.get("headers", [])
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    # Replies carry content (audio, transcripts, history): no cache keeps them,
                    # the browser's own included.
                    headers = [*headers, NO_STORE]
                message["headers"] = [*headers, header, *_retention(meter)]
            elif kind == "http.response.body" and not message.get("more_body", False):
                state["complete"] = True
            elif kind == "websocket.accept":
                state["status"] = 101
                message["headers"] = [*message.get("headers", []), header]
            elif kind == "websocket.close":
                state["complete"] = True
                state["close_code"] = message.get("code", 1000)
                if state["status"] is None:
                    state["status"] = 403
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            # Refused at the first read, so the body is never buffered; routing has happened by
            # then, so the request is still metered against its product.
            received = declared
        # In flight until its usage record is written: a drain waits for that too.
        with self.drain.counting(scope.get("path")):
            try:
                await self._serve(scope, receive_limited, send_tracked)
            except ClientDisconnect:
                # The client hung up while its body was being read: nothing failed here, and
                # there is nobody left to answer (no error logged, no 500 recorded).
                state["disconnected"] = state["cut_body"] = True
            except Exception as exc:  # the last resort: nothing of the request reaches the log
                log_event(log, "request_failed", logging.ERROR, **error_fields(exc))
                if scope["type"] == "http" and state["status"] is None:
                    error = exc if isinstance(exc, SottovoceError) else SottovoceError()
                    await self._send_error(scope, send_tracked, error)
                elif state["status"] is not None and not state["complete"]:
                    state["disconnected"] = True
            finally:
                ticket: Ticket | None = scope.get(TICKET)
                if ticket is not None:
                    ticket.release()
                await self._finish(scope, meter, state, started)
                request_id_var.reset(token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
        elif self.drain.draining:
            await self._refuse_draining(scope, receive, send)
        elif scope["type"] == "websocket":
            # Its session's revocation (or the server's drain) reaches it through its guard.
            grace = self.services.settings.server.revoked_close_grace_s
            guard = SocketGuard(receive, send, self.services.sessions, grace)
            scope[GUARD] = guard
            try:
                with self.drain.socket(guard):
                    await guard.serve(self.app, scope)
            finally:
                if isinstance(guard.ended_by, ServerDraining):
                    scope[METER].cancelled = True  # cut short by the drain
        else:
            await self.app(scope, receive, send)

    async def _refuse_draining(self, scope: Scope, receive: Receive, send: Send) -> None:
        """New work while the server drains: 503 in the route's vendor shape, or for a socket,
        accepted and closed at once as going away (1001)."""
        error = ServerDraining()
        if scope["type"] == "websocket":
            await receive()  # the client's connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": GOING_AWAY, "reason": error.code})
            return
        # Not routed yet: the error takes the shape of the surface whose key the caller sent.
        found = self.surfaces.keys.read(
            Headers(scope=scope), QueryParams(scope.get("query_string", b""))
        )
        surface = self.surfaces.named(found.source.surface) if found is not None else None
        shape = surface.error_shape if surface is not None else sottovoce_error
        meter: UsageMeter = scope[METER]
        meter.error_code = error.code
        body = shape(error, meter.request_id)
        retry = [(b"retry-after", str(RETRY_AFTER_S).encode())]
        await self._send_error(scope, send, error, retry, body)

    async def _attribute(self, scope: Scope, meter: UsageMeter) -> None:
        """Meter a request that failed before its key was checked (bad JSON, too large)."""
        product = route_product(scope.get("route"))
        found = self.surfaces.keys.read(
            Headers(scope=scope), QueryParams(scope.get("query_string", b""))
        )
        if product is None or found is None:
            return
        result = await self.services.lookup_key(found.secret)
        if result is not None:
            meter.key_id, meter.workspace_id = result[0].id, result[1].id
            meter.product = product

    async def _send_error(
        self,
        scope: Scope,
        send: Send,
        error: SottovoceError,
        headers: list[tuple[bytes, bytes]] | None = None,
        shaped: dict[str, Any] | None = None,
    ) -> None:
        body = json.dumps(shaped if shaped is not None else error_body(scope, error)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _finish(
        self, scope: Scope, meter: UsageMeter, state: dict[str, Any], started: float
    ) -> None:
        duration_ms = int((time.perf_counter() - started) * 1000)
        status = state["status"] or 500
        if state["cut_body"]:
            # What the route made of half a body (a parse error) is not the client's error.
            status, meter.error_code = CLIENT_CLOSED, None
        close_code = state.get("close_code")
        if meter.cancelled or state["disconnected"] or not state["complete"]:
            # The response never finished: the client went away (or we failed mid-stream).
            outcome = "cancelled"
        elif status >= 400 or (close_code is not None and close_code not in (1000, 1001)):
            outcome = "error"
        else:
            outcome = "ok"
        log_event(
            log,
            "http.request" if scope["type"] == "http" else "websocket.session",
            method=scope.get("method", "WS"),
            route=_route_template(scope),
            status=status,
            outcome=outcome,
            duration_ms=duration_ms,
            workspace_id=meter.workspace_id,
            product=meter.product.value if meter.product else None,
            error_code=meter.error_code,
        )
        if meter.workspace_id is None:
            await self._attribute(scope, meter)
        self.metrics.observe(
            product=meter.product.value if meter.product else None,
            route=_route_template(scope),
            method=scope.get("method", "WS"),
            status=status,
            outcome=outcome,
            seconds=duration_ms / 1000,
            units=(
                (meter.input_unit, meter.input_units, "input"),
                (meter.output_unit, meter.output_units, "output"),
            ),
        )
        await self.services.record_usage(
            meter, duration_ms=duration_ms, status=status, outcome=outcome
        )
