"""What every endpoint needs: the app's services, the caller's key and workspace, the meter.

Keys are accepted in every place the vendor SDKs put them: ``xi-api-key`` (ElevenLabs),
``Authorization: Bearer`` (OpenAI, Cartesia), ``X-API-Key`` (Cartesia 2.x), ``Authorization:
Token`` (Deepgram), ``Authorization: Basic`` (Inworld), a bare ``Authorization`` (AssemblyAI),
and for WebSockets the query parameters ``xi_api_key``, ``api_key`` or ``token``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import anyio
from fastapi import Query, Request, WebSocket, WebSocketDisconnect
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from sottovoce.api.usage_meter import SCOPE_KEY, UsageMeter
from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry
from sottovoce.errors import Unauthorized
from sottovoce.privacy import policy
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.store import history, keys
from sottovoce.store.db import Store
from sottovoce.store.history import NewHistoryItem
from sottovoce.store.keys import KEY_PREFIX, ApiKey
from sottovoce.store.workspaces import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """Everything built once at start-up and shared by requests."""

    settings: Settings
    store: Store
    engines: EngineRegistry


class AuthScheme(StrEnum):
    XI_API_KEY = "xi-api-key"
    BEARER = "bearer"
    X_API_KEY = "x-api-key"
    TOKEN = "token"
    BASIC = "basic"
    RAW = "raw"
    QUERY = "query"
    FIRST_MESSAGE = "first-message"


def _basic_credential(value: str) -> str:
    # Inworld's SDK sends the key as given; others send base64("user:password").
    if value.startswith(KEY_PREFIX):
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value
    user, _, password = decoded.partition(":")
    return password or user


def read_key(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, AuthScheme] | None:
    """The API key a request carries and where it was found."""
    if value := headers.get("xi-api-key"):
        return value.strip(), AuthScheme.XI_API_KEY
    if value := headers.get("x-api-key"):
        return value.strip(), AuthScheme.X_API_KEY
    if auth := headers.get("authorization"):
        scheme, _, value = auth.strip().partition(" ")
        value = value.strip()
        if not value:
            return scheme, AuthScheme.RAW
        match scheme.lower():
            case "bearer":
                return value, AuthScheme.BEARER
            case "token":
                return value, AuthScheme.TOKEN
            case "basic":
                return _basic_credential(value), AuthScheme.BASIC
    for name in ("xi_api_key", "api_key", "token"):
        if value := query.get(name):
            return value.strip(), AuthScheme.QUERY
    return None


def services_of(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


def meter_of(connection: HTTPConnection) -> UsageMeter:
    meter: UsageMeter = connection.scope[SCOPE_KEY]
    return meter


@dataclass
class RequestContext:
    """An authenticated request: who asks, for which product, and its meter."""

    request_id: str
    workspace: Workspace
    key: ApiKey
    auth_scheme: AuthScheme
    services: Services
    usage: UsageMeter

    def decide(self, flags: RequestFlags, route: Route | None = None) -> RetentionDecision:
        """The retention decision for this request (also recorded on the usage meter)."""
        assert self.usage.product is not None
        decision = policy.decide(self.workspace.retention, flags, self.usage.product, route)
        self.usage.record_decision(decision)
        return decision

    async def save_history(self, decision: RetentionDecision, item: NewHistoryItem) -> str:
        def save() -> str:
            with self.services.store.session() as session:
                return history.save(session, decision, item)

        item_id = await anyio.to_thread.run_sync(save)
        self.usage.content_retained = True
        return item_id

    async def run_in_session(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a database transaction, off the event loop."""

        def call() -> T:
            with self.services.store.session() as session:
                return fn(session)

        return await anyio.to_thread.run_sync(call)


async def lookup_key(services: Services, secret: str) -> tuple[ApiKey, Workspace] | None:
    def lookup() -> tuple[ApiKey, Workspace] | None:
        with services.store.session() as session:
            return keys.authenticate(session, secret)

    return await anyio.to_thread.run_sync(lookup)


async def _authenticate(
    connection: HTTPConnection, product: Product, secret: str | None = None
) -> RequestContext:
    services = services_of(connection)
    meter = meter_of(connection)
    found = (
        (secret, AuthScheme.FIRST_MESSAGE)
        if secret
        else read_key(connection.headers, connection.query_params)
    )
    if found is None:
        raise Unauthorized()
    secret, scheme = found
    result = await lookup_key(services, secret)
    if result is None:
        raise Unauthorized()
    key, workspace = result
    meter.workspace_id = workspace.id
    meter.key_id = key.id
    meter.product = product
    return RequestContext(
        request_id=meter.request_id,
        workspace=workspace,
        key=key,
        auth_scheme=scheme,
        services=services,
        usage=meter,
    )


def context(product: Product) -> Callable[[Request], Awaitable[RequestContext]]:
    """Dependency factory: ``ctx: RequestContext = Depends(context(Product.TTS))``."""

    async def dependency(request: Request) -> RequestContext:
        return await _authenticate(request, product)

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


FIRST_MESSAGE_KEY_FIELDS = ("xi_api_key", "xi-api-key", "api_key", "token")


async def authenticate_websocket(
    websocket: WebSocket, product: Product, first_message_timeout: float = 10.0
) -> tuple[RequestContext, str | None]:
    """Authenticate an accepted WebSocket from its headers or query, or else from a key field
    of its first message (as the vendors' socket protocols allow).

    Returns the context and, when the first message was read for its key, that message, so the
    caller can still handle what else it carried. Raises ``Unauthorized``.
    """
    if read_key(websocket.headers, websocket.query_params) is not None:
        return await _authenticate(websocket, product), None
    try:
        with anyio.fail_after(first_message_timeout):
            first = await websocket.receive_text()
        message = json.loads(first)
    except (TimeoutError, KeyError, ValueError, WebSocketDisconnect):
        raise Unauthorized() from None
    secret = None
    if isinstance(message, dict):
        secret = next(
            (v for f in FIRST_MESSAGE_KEY_FIELDS if isinstance(v := message.get(f), str) and v),
            None,
        )
    if secret is None:
        raise Unauthorized()
    return await _authenticate(websocket, product, secret.strip()), first


def retention_flags(
    enable_logging: bool | None = Query(
        default=None, description="false: zero retention for this request"
    ),
) -> RequestFlags:
    return RequestFlags(enable_logging=enable_logging)
