"""One renderer for every error: ``{"error": {"code", "message", "request_id", ...}}``.

Validation errors name the fields at fault, never the values. The server log gets the
error's type and code from the middleware, never its message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from sottovoce.api.usage_meter import SCOPE_KEY, UsageMeter
from sottovoce.errors import (
    InvalidJson,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    SottovoceError,
    UnsupportedMediaType,
)

BODY_TOO_LARGE = "sottovoce.body_too_large"
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def error_body(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": exc.code,
        "message": exc.message,
        "request_id": request_id,
        # OpenAI's SDKs read ``type``; the rest read ``code`` and ``message``.
        "type": "invalid_request_error" if exc.status < 500 else "server_error",
    }
    if exc.fields:
        error["fields"] = list(exc.fields)
    return {"error": error}


def render(scope: Any, exc: SottovoceError) -> JSONResponse:
    meter: UsageMeter | None = scope.get(SCOPE_KEY)
    if meter is not None:
        meter.error_code = exc.code
    return JSONResponse(
        error_body(exc, meter.request_id if meter else None), status_code=exc.status
    )


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
        if request.scope.get(BODY_TOO_LARGE):
            error = PayloadTooLarge()
        elif exc.status_code == 404:
            error = RouteNotFound()
        elif exc.status_code == 405:
            error = MethodNotAllowed()
        elif exc.status_code == 400:
            error = InvalidRequest("The request body could not be read.")
        else:
            error = InvalidRequest()
        return render(request.scope, error)

    app.add_exception_handler(SottovoceError, on_sottovoce_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
