"""Content-free logging: JSON lines built from an allow-list, never scrubbed after the fact.

Our own log calls name an *event* (a constant like ``http.request``) and pass metadata fields;
the formatter keeps only allow-listed keys whose values are numbers, booleans or short
identifier-shaped strings. Third-party loggers (uvicorn, httpx, SQLAlchemy, alembic, engines)
keep their name and level but lose their message unless it is one of a few known, content-free
templates. Exceptions become a type name, a stable code and the code position they came from:
never their message, never a traceback with locals.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from sottovoce.errors import SottovoceError

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sottovoce_request_id", default=None
)

ALLOWED_FIELDS = frozenset(
    {
        "request_id",
        "workspace_id",
        "key_id",
        "product",
        "model",
        "provider",
        "mode",
        "method",
        "route",
        "status",
        "outcome",
        "duration_ms",
        "ttfb_ms",
        "input_units",
        "input_unit",
        "output_units",
        "output_unit",
        "retained",
        "zero_retention",
        "retention_reason",
        "error_code",
        "error_type",
        "where",
        "count",
        "bytes",
        "host",
        "port",
        "version",
        "engine",
        "seconds",
        "migration",
        "pid",
        "key_file",
        "console_url",
    }
)

# Values that look like identifiers, routes, model ids or enum values. Anything else is dropped.
_SAFE_STRING = re.compile(r"[A-Za-z0-9_.:/{}\-]{0,200}")
_EVENT = re.compile(r"[a-z][a-z0-9_.]{0,63}")

# Library messages known to carry no request content, by their format string.
_SAFE_LIBRARY_TEMPLATES = frozenset(
    {
        "Started server process [%d]",
        "Waiting for application startup.",
        "Application startup complete.",
        "Waiting for application shutdown.",
        "Application shutdown complete.",
        "Finished server process [%d]",
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
        "Shutting down",
        "Context impl %s.",
        "Will assume non-transactional DDL.",
        "Will assume transactional DDL.",
        "Invalid HTTP request received.",
    }
)

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}


def _safe_value(value: object) -> object:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str) and _SAFE_STRING.fullmatch(value):
        return value
    return "<dropped>"


def error_fields(exc: BaseException) -> dict[str, object]:
    """What may be said of an exception: its type, its code, where it was raised."""
    fields: dict[str, object] = {"error_type": type(exc).__name__}
    if isinstance(exc, SottovoceError):
        fields["error_code"] = exc.code
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if frames:
        last = frames[-1]
        fields["where"] = f"{Path(last.filename).stem}:{last.name}:{last.lineno}"
    return fields


class ContentFreeFormatter(logging.Formatter):
    """Turns any log record into one JSON line of allow-listed metadata."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name if _SAFE_STRING.fullmatch(record.name) else "<dropped>",
        }
        if record.name == "sottovoce" or record.name.startswith("sottovoce."):
            msg = record.msg
            out["event"] = msg if isinstance(msg, str) and _EVENT.fullmatch(msg) else "<dropped>"
        elif isinstance(record.msg, str) and record.msg in _SAFE_LIBRARY_TEMPLATES:
            out["event"] = "library"
            out["message"] = record.msg % tuple(_safe_value(a) for a in _args(record))
        else:
            out["event"] = "library"
        request_id = request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                if key in ALLOWED_FIELDS:
                    out[key] = _safe_value(value)
        if record.exc_info and record.exc_info[1] is not None:
            out.update(error_fields(record.exc_info[1]))
        return json.dumps(out, separators=(",", ":"))

    def formatException(self, ei: Any) -> str:  # never used, but never leak either
        return ""


def _args(record: logging.LogRecord) -> tuple[object, ...]:
    if isinstance(record.args, tuple):
        return record.args
    return ()


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object
) -> None:
    """Log a named event with metadata fields (dropped unless allow-listed)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={"fields": fields})


def configure_logging(
    level: str, stream: TextIO | None = None, log_file: Path | None = None
) -> None:
    """Route every logger through the content-free formatter. Idempotent."""
    formatter = ContentFreeFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(_LEVELS.get(level, logging.INFO))
    # Libraries log through the root handler only, with no handlers of their own, and never
    # at a level where they would try to print bodies or SQL parameters.
    for name in (
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "httpx",
        "httpcore",
        "sqlalchemy",
        "alembic",
        "multipart",
        "python_multipart",
        "faster_whisper",
    ):
        lib = logging.getLogger(name)
        lib.handlers.clear()
        lib.propagate = True
    for name in (
        "sqlalchemy.engine",
        "sqlalchemy.pool",
        "httpx",
        "httpcore",
        "multipart",
        "python_multipart",
        "uvicorn.access",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    _install_excepthooks()


_log = logging.getLogger("sottovoce.crash")


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    log_event(_log, "uncaught_exception", logging.ERROR, **error_fields(exc.with_traceback(tb)))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log_event(_log, "uncaught_thread_exception", logging.ERROR, **error_fields(args.exc_value))


def _unraisable_hook(unraisable: Any) -> None:
    exc = getattr(unraisable, "exc_value", None)
    if exc is not None:
        log_event(_log, "unraisable_exception", logging.ERROR, **error_fields(exc))


def _install_excepthooks() -> None:
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisable_hook


def monotonic_ms(start: float) -> int:
    """Milliseconds since ``start`` (a ``time.perf_counter()`` value)."""
    return int((time.perf_counter() - start) * 1000)
