"""The OpenAPI document, made to tell the truth about errors.

FastAPI lists ``200`` and its own ``422`` validation shape for each operation; the server answers
more than that, in the shape of the route's surface. :func:`install_openapi` replaces the
document builder with one that, for every operation, lists the error statuses the server can
answer (:data:`ERROR_STATUSES`, narrowed per operation) with its surface's error schema
(:attr:`~sottovoce.api.surface.Surface.error_schema`), so that generated clients and fuzzers can
trust it. Nothing here is per route: a new route gets its errors from its surface.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from sottovoce.api.surface import Mounted, Surface

_REASONS = {
    400: "Malformed request (invalid JSON, a prompt over the model's context)",
    401: "Missing, unknown or revoked key, or the workspace is gone",
    403: "Refused: an admin key is required, or by the workspace's retention policy",
    404: "Unknown id, voice or model",
    408: "The request body did not arrive in time",
    409: "Conflict (for example a voice still being made)",
    413: "Request body or audio over the server's limits",
    415: "Unsupported media type",
    422: "Invalid or missing field",
    429: "Too busy: over the server's or workspace's concurrency limits (see Retry-After)",
    502: "The upstream provider failed",
    503: "Engine unavailable or the server is draining (see Retry-After)",
    504: "The upstream provider timed out",
}

AUTHENTICATED = (401, 403, 404, 409, 422, 429, 502, 503, 504)
"""Every authenticated operation: its key, retention policy, ids, admission, engines."""
WITH_BODY = (400, 408, 413, 415)
"""And an operation that reads a request body (JSON or multipart)."""
PUBLIC = (503,)
"""An operation that takes no key (health and readiness)."""

MADE_RESPONSE_TYPES = (
    "application/json",
    "application/x-ndjson",
    "text/event-stream",
    "text/plain",
    "text/vtt",
    "application/x-subrip",
    "audio/*",
    "application/octet-stream",
)
"""What a route that builds its own response answers, by the request's format: JSON (with
timestamps, transcripts), JSON lines or events (streams), subtitles, audio or raw samples."""


def _routes(surface: Surface) -> Iterator[APIRoute]:
    for router in surface.routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route


def _reads_body(route: APIRoute, operation: dict[str, Any]) -> bool:
    """JSON bodies are declared; multipart bodies are read by hand from POST/PATCH routes."""
    return "requestBody" in operation or bool((route.methods or set()) & {"POST", "PATCH", "PUT"})


def _statuses(surface: Surface, route: APIRoute, operation: dict[str, Any]) -> tuple[int, ...]:
    if route.path in surface.public_paths:
        return PUBLIC
    return AUTHENTICATED + (WITH_BODY if _reads_body(route, operation) else ())


def _describe_made_response(responses: dict[str, Any]) -> None:
    """A route that returns a response of its own making is documented by FastAPI as JSON of
    any shape (an empty schema): it answers any of :data:`MADE_RESPONSE_TYPES`."""
    ok = responses.get("200", {})
    content = ok.get("content", {})
    if set(content) == {"application/json"} and content["application/json"].get("schema") == {}:
        ok["content"] = {media: {"schema": {}} for media in MADE_RESPONSE_TYPES}


def truthful_document(app: FastAPI, mounted: Mounted) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, openapi_version=app.openapi_version, routes=app.routes
    )
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for surface in mounted.surfaces:
        name = f"{surface.name.capitalize()}Error"
        schemas[name] = surface.error_schema
        ref = {"$ref": f"#/components/schemas/{name}"}
        for route in _routes(surface):
            path = document["paths"].get(route.path, {})
            for method in route.methods or ():
                operation = path.get(method.lower())
                if operation is None:
                    continue
                responses: dict[str, Any] = operation.setdefault("responses", {})
                _describe_made_response(responses)
                for status in _statuses(surface, route, operation):
                    responses[str(status)] = {
                        "description": _REASONS[status],
                        "content": {"application/json": {"schema": ref}},
                    }
    for surface in mounted.surfaces:
        if surface.amend_document is not None:
            surface.amend_document(document, mounted)
    # FastAPI's validation shape is answered by no route: every 422 is in a surface's shape.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def install_openapi(app: FastAPI, mounted: Mounted) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful_document(app, mounted)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
