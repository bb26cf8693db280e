"""One renderer for every error, in the shape of the surface the route belongs to.

Each surface declares its SDK's error shape (:attr:`~sottovoce.api.surface.Surface.error_shape`);
every shape carries sottovoce's own ``{"error": {"code", "message", "request_id"}}`` object, so
a client can always read the stable code. Validation errors name the fields at fault, never the
values. The server log gets the error's type and code from the middleware, never its message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from sottovoce.api.deps import METER
from sottovoce.api.slow_clients import BODY_TIMED_OUT
from sottovoce.api.surface import Mounted, shape_error
from sottovoce.errors import (
    BodyTimeout,
    InvalidJson,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    SottovoceError,
    UnsupportedMediaType,
)
from sottovoce.services.meter import UsageMeter

BODY_TOO_LARGE = "sottovoce.body_too_large"
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def error_body(scope: Any, exc: SottovoceError, route: object = None) -> dict[str, Any]:
    """The error body for this request, in its surface's shape (metering the error code); for
    a request no route took (a 405), in the shape of ``route``, one at the same path."""
    meter: UsageMeter | None = scope.get(METER)
    if meter is not None:
        meter.error_code = exc.code
    app = scope.get("app")
    mounted: Mounted | None = getattr(getattr(app, "state", None), "surfaces", None)
    route = scope.get("route") or route
    return shape_error(mounted, route, exc, meter.request_id if meter else None)


def _mounted(request: Request) -> Mounted:
    mounted: Mounted = request.app.state.surfaces
    return mounted


def render(
    scope: Any,
    exc: SottovoceError,
    extra_headers: Mapping[str, str] | None = None,
    route: object = None,
) -> JSONResponse:
    headers = dict(extra_headers or {})
    if exc.retry_after_s is not None:
        headers["retry-after"] = str(exc.retry_after_s)
    if scope.get(BODY_TIMED_OUT):
        # The rest of that body may still come: the connection cannot carry another request.
        headers["connection"] = "close"
    body = error_body(scope, exc, route)
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _field_names(errors: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for error in errors:
        parts = [str(p) for p in error.get("loc", ()) if p not in _LOCATIONS]
        name = ".".join(parts) or "body"
        if name not in names:
            names.append(name)
    return names


def _from_validation(request: Request, exc: RequestValidationError) -> SottovoceError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return InvalidJson()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body_errors = any(e.get("loc", ("",))[0] == "body" for e in errors)
    is_form = content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
    if body_errors and content_type and not content_type.endswith("json") and not is_form:
        return UnsupportedMediaType("This endpoint takes a JSON body (application/json).")
    fields = _field_names(errors)
    return InvalidRequest(f"Invalid or missing value for: {', '.join(fields)}.", fields=fields)


def install_error_handlers(app: FastAPI) -> None:
    async def on_sottovoce_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SottovoceError)
        return render(request.scope, exc)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(request.scope, _from_validation(request, exc))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error: SottovoceError
        headers: dict[str, str] = {}
        route: object = None
        if request.scope.get(BODY_TOO_LARGE):
            error = PayloadTooLarge()
        elif request.scope.get(BODY_TIMED_OUT):
            error = BodyTimeout()
        elif exc.status_code == 404:
            error = RouteNotFound()
        elif exc.status_code == 405:
            error = MethodNotAllowed()
            # Every method the path answers (RFC 9110: a 405 carries them), from all its routes.
            at_path = _mounted(request).routes_at(request.url.path)
            methods = sorted({m for r in at_path for m in r.methods or ()})
            if methods:
                headers["allow"] = ", ".join(methods)
                route = at_path[0]
        elif exc.status_code == 400:
            error = InvalidRequest("The request body could not be read.")
        else:
            error = InvalidRequest()
        return render(request.scope, error, headers, route)

    app.add_exception_handler(SottovoceError, on_sottovoce_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
