"""A vendor surface: everything one vendor's API shape needs, in one small declaration.

Each package under ``api/`` (``elevenlabs``, ``openai``, ``cartesia``, ``inworld``, and ``admin``
for sottovoce's own routes) exposes one :data:`SURFACE`: its routers, where its SDK puts the key,
how its SDK expects errors, its audit probes, and the routes that carry no content. ``app.py``
mounts a list of them; nothing else needs to know a vendor exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from sottovoce.api.keys import KeyReader, KeySource
from sottovoce.audit.probe import Probe, RouteKey
from sottovoce.engines.base import ModelInfo
from sottovoce.errors import SottovoceError

ErrorShape = Callable[[SottovoceError, str | None], dict[str, Any]]
"""Renders an error as the surface's SDK expects it: (error, request id) -> JSON body."""
ModelsShape = Callable[[Sequence[ModelInfo], int], Any]
"""Renders ``GET /v1/models`` for the surface's SDK: (models, max text chars) -> JSON body."""
DocumentAmendment = Callable[[dict[str, Any], "Mounted"], None]
"""Completes the OpenAPI document with what is known once every surface is mounted."""


def sottovoce_error(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    """sottovoce's own error object, which every surface's shape also carries.

    ``type`` is OpenAI's error class; ``fields`` names the fields at fault, never their values."""
    error: dict[str, Any] = {
        "code": exc.code,
        "message": exc.message,
        "request_id": request_id,
        "type": "invalid_request_error" if exc.status < 500 else "server_error",
    }
    if exc.fields:
        error["fields"] = list(exc.fields)
    return {"error": error}


_NULLABLE_STRING = {"type": ["string", "null"]}
SOTTOVOCE_ERROR_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "request_id", "type"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "request_id": _NULLABLE_STRING,
        "type": {"enum": ["invalid_request_error", "server_error"]},
        "fields": {"type": "array", "items": {"type": "string"}},
    },
}


def error_schema(
    properties: dict[str, Any] | None = None, *, own_error: bool = True
) -> dict[str, Any]:
    """The JSON schema of an error shape: the surface's own ``properties`` (all required), and,
    unless ``own_error`` is false, sottovoce's ``error`` object beside them."""
    props = dict(properties or {})
    if own_error:
        props["error"] = SOTTOVOCE_ERROR_OBJECT
    return {"type": "object", "required": sorted(props), "properties": props}


SOTTOVOCE_ERROR_SCHEMA = error_schema()


@dataclass(frozen=True)
class Surface:
    name: str
    routers: tuple[APIRouter, ...]
    key_sources: tuple[KeySource, ...] = ()
    error_shape: ErrorShape = sottovoce_error
    error_schema: dict[str, Any] = field(default_factory=lambda: SOTTOVOCE_ERROR_SCHEMA)
    """The JSON schema of ``error_shape``'s bodies, for the OpenAPI document."""
    probes: tuple[Probe, ...] = ()
    content_free_routes: frozenset[RouteKey] = frozenset()
    """Routes that take no request content (listings, settings): no probe needed."""
    public_paths: frozenset[str] = frozenset()
    """Paths that take no key (health, readiness)."""
    models_shape: ModelsShape | None = None
    """This surface's shape of the shared ``GET /v1/models``, for callers using its key source."""
    audio_json_paths: frozenset[str] = frozenset()
    """Paths whose JSON bodies carry audio (base64): limited as uploads are
    (``limits.max_body_bytes``), not as JSON (``limits.max_json_bytes``)."""
    amend_document: DocumentAmendment | None = None
    """Says in the OpenAPI document what only the mounted app knows (the audit's probe names)."""


@dataclass
class Mounted:
    """The surfaces of one app, and which one each route belongs to."""

    surfaces: tuple[Surface, ...]
    keys: KeyReader = field(init=False)
    _by_route: dict[int, Surface] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.keys = KeyReader(
            KeySource(s.place, s.name, surface.name, s.decode)
            for surface in self.surfaces
            for s in surface.key_sources
        )

    def mount(self, app: FastAPI) -> None:
        for surface in self.surfaces:
            for router in surface.routers:
                app.include_router(router)
                # FastAPI matches the router's own route objects (``scope["route"]``).
                for route in router.routes:
                    self._by_route[id(route)] = surface

    def of_route(self, route: object) -> Surface | None:
        return self._by_route.get(id(route)) if route is not None else None

    def routes_at(self, path: str) -> list[APIRoute]:
        """The routes whose path matches ``path``, whatever their method."""
        return [
            route
            for surface in self.surfaces
            for router in surface.routers
            for route in router.routes
            if isinstance(route, APIRoute) and route.path_regex.match(path)
        ]

    def named(self, name: str) -> Surface | None:
        return next((s for s in self.surfaces if s.name == name), None)

    def probes(self) -> list[Probe]:
        return [p for s in self.surfaces for p in s.probes]

    def audio_json_paths(self) -> frozenset[str]:
        return frozenset(p for s in self.surfaces for p in s.audio_json_paths)

    def content_free_routes(self) -> frozenset[RouteKey]:
        return frozenset(r for s in self.surfaces for r in s.content_free_routes)


def shape_error(
    mounted: Mounted | None, route: object, exc: SottovoceError, request_id: str | None
) -> dict[str, Any]:
    """The error body for a request: in its route's surface's shape, else sottovoce's own."""
    surface = mounted.of_route(route) if mounted is not None else None
    shape = surface.error_shape if surface is not None else sottovoce_error
    return shape(exc, request_id)
