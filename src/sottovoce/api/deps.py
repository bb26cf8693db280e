"""What every endpoint needs: the app's services, the caller's key, and its request context.

The key is read from every place a mounted surface declared (:mod:`sottovoce.api.keys`); the
request context itself (:mod:`sottovoce.services.context`) is vendor-free and knows nothing of
HTTP. A route asks for one with ``ctx: RequestContext = Depends(context(Product.TTS))``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, Query, Request, WebSocket, WebSocketDisconnect
from starlette.requests import HTTPConnection

from sottovoce.api.keys import Found, KeySource
from sottovoce.api.socket_guard import guard_of
from sottovoce.api.surface import Mounted
from sottovoce.errors import Unauthorized
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.services.admission import Admission, kind_of
from sottovoce.services.context import RequestContext, Services
from sottovoce.services.meter import UsageMeter
from sottovoce.store.keys import ApiKey
from sottovoce.store.workspaces import Workspace

METER = "sottovoce.usage"
"""Scope key of the request's usage meter (set by the middleware)."""
KEY_SOURCE = "sottovoce.key_source"
"""Scope key of where the request's key was found."""
TICKET = "sottovoce.admission_ticket"
"""Scope key of the request's place under admission control (given back by the middleware)."""


def services_of(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


def surfaces_of(connection: HTTPConnection) -> Mounted:
    mounted: Mounted = connection.app.state.surfaces
    return mounted


def meter_of(connection: HTTPConnection) -> UsageMeter:
    meter: UsageMeter = connection.scope[METER]
    return meter


def key_source_of(connection: HTTPConnection) -> KeySource | None:
    source: KeySource | None = connection.scope.get(KEY_SOURCE)
    return source


async def _authenticate(
    connection: HTTPConnection, product: Product, found: Found | None
) -> RequestContext:
    services = services_of(connection)
    if found is None:
        raise Unauthorized()
    result = await services.lookup_key(found.secret)
    if result is None:
        raise Unauthorized()
    connection.scope[KEY_SOURCE] = found.source
    return context_for(connection, product, *result)


def context_for(
    connection: HTTPConnection, product: Product, key: ApiKey, workspace: Workspace
) -> RequestContext:
    """The request context of an authenticated key (a signed URL names its key)."""
    services = services_of(connection)
    meter = meter_of(connection)
    meter.workspace_id = workspace.id
    meter.key_id = key.id
    meter.product = product
    admit(connection, product, workspace)
    ctx = RequestContext(services, workspace=workspace, key=key, product=product, usage=meter)
    ctx.ticket = connection.scope.get(TICKET)
    watch = guard_of(connection.scope)
    if watch is not None:
        # A socket lives on: its key and workspace are re-checked until it closes.
        watch(ctx.lease)
    return ctx


def admit(connection: HTTPConnection, product: Product, workspace: Workspace) -> None:
    """Take the request's place under admission control, once (raises ``TooBusy``)."""
    admission: Admission | None = getattr(connection.app.state, "admission", None)
    kind = kind_of(product, socket=connection.scope["type"] == "websocket")
    if admission is not None and kind is not None and TICKET not in connection.scope:
        connection.scope[TICKET] = admission.admit(kind, workspace.id)


async def authenticate_by_key(connection: HTTPConnection, product: Product) -> RequestContext:
    """The context of the key a connection carries in its headers or query (``Unauthorized``)."""
    return await _authenticate(connection, product, read_key(connection))


def read_key(connection: HTTPConnection) -> Found | None:
    return surfaces_of(connection).keys.read(connection.headers, connection.query_params)


def context(product: Product) -> Callable[[Request], Awaitable[RequestContext]]:
    """Dependency factory: ``ctx: RequestContext = Depends(context(Product.TTS))``."""

    async def dependency(request: Request) -> RequestContext:
        return await _authenticate(request, product, read_key(request))

    # Read by the middleware to meter requests that fail before dependencies run (bad JSON).
    dependency.product = product  # type: ignore[attr-defined]
    return dependency


def route_product(route: object) -> Product | None:
    """The product a route is metered as, from its ``context(product)`` dependency."""
    dependant = getattr(route, "dependant", None)
    pending = list(getattr(dependant, "dependencies", ()))
    while pending:
        dep = pending.pop()
        product = getattr(dep.call, "product", None)
        if isinstance(product, Product):
            return product
        pending.extend(dep.dependencies)
    return None


async def authenticate_websocket(
    websocket: WebSocket, product: Product, first_message_timeout: float = 10.0
) -> tuple[RequestContext, str | None]:
    """Authenticate an accepted WebSocket from its headers or query, or else from a key field
    of its first message (as the vendors' socket protocols allow).

    Returns the context and, when the first message was read for its key, that message, so the
    caller can still handle what else it carried. Raises ``Unauthorized``.
    """
    found = read_key(websocket)
    if found is not None:
        return await _authenticate(websocket, product, found), None
    try:
        with anyio.fail_after(first_message_timeout):
            first = await websocket.receive_text()
        message = json.loads(first)
    except (TimeoutError, KeyError, ValueError, WebSocketDisconnect):
        raise Unauthorized() from None
    if isinstance(message, dict):
        found = surfaces_of(websocket).keys.read_message(message)
    return await _authenticate(websocket, product, found), first


def retention_flags(
    enable_logging: bool | None = Query(
        default=None, description="false: zero retention for this request"
    ),
) -> RequestFlags:
    return RequestFlags(enable_logging=enable_logging)


Flags = Annotated[RequestFlags, Depends(retention_flags)]
"""The request's own retention flags (``?enable_logging=false``)."""
