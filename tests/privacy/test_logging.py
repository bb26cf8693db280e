"""Content-free logging: the formatter keeps allow-listed metadata and nothing else."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from sottovoce.errors import InvalidRequest
from sottovoce.privacy.logging import configure_logging, log_event, request_id_var
from sottovoce.privacy.sensitive import Sensitive

SECRET = "CANARYlogsecret42"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("DEBUG", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_own_events_keep_allowed_fields_only(stream: io.StringIO) -> None:
    log = logging.getLogger("sottovoce.test")
    log_event(log, "tts.done", model="local/piper", duration_ms=12, text=SECRET, voice=SECRET)
    [line] = lines(stream)
    assert line["event"] == "tts.done"
    assert line["model"] == "local/piper" and line["duration_ms"] == 12
    assert "text" not in line and "voice" not in line
    assert SECRET not in stream.getvalue()


def test_allowed_field_with_free_text_value_is_dropped(stream: io.StringIO) -> None:
    log_event(logging.getLogger("sottovoce.test"), "x", model=f"hello {SECRET} world")
    assert SECRET not in stream.getvalue()
    assert lines(stream)[0]["model"] == "<dropped>"


def test_a_message_that_is_not_an_event_name_is_dropped(stream: io.StringIO) -> None:
    logging.getLogger("sottovoce.test").info("user said %s", SECRET)
    logging.getLogger("sottovoce.test").info(f"user said {SECRET}")
    assert SECRET not in stream.getvalue()


@pytest.mark.parametrize("name", ["uvicorn.error", "httpx", "sqlalchemy.engine", "anything"])
def test_library_messages_lose_their_text_at_debug(stream: io.StringIO, name: str) -> None:
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.warning("body: %s", SECRET)
    logger.error(f"request {SECRET} failed")
    assert SECRET not in stream.getvalue()
    assert all(line["event"] == "library" for line in lines(stream))


def test_known_library_templates_keep_their_text(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    assert lines(stream)[0]["message"] == "Started server process [42]"


def test_exceptions_give_type_code_and_place_not_message(stream: io.StringIO) -> None:
    log = logging.getLogger("sottovoce.test")
    try:
        raise ValueError(f"could not parse {SECRET}")
    except ValueError:
        log.exception("failed")
    try:
        raise InvalidRequest(f"bad {SECRET}")
    except InvalidRequest:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    assert SECRET not in stream.getvalue()
    first, second = lines(stream)
    assert first["error_type"] == "ValueError" and "test_logging" in str(first["where"])
    assert second["error_code"] == "invalid_request"


def test_request_id_is_on_every_line(stream: io.StringIO) -> None:
    token = request_id_var.set("req_abc")
    try:
        logging.getLogger("sottovoce.test").info("x")
        logging.getLogger("httpx").warning("y")
    finally:
        request_id_var.reset(token)
    assert [line["request_id"] for line in lines(stream)] == ["req_abc", "req_abc"]


def test_sensitive_values_in_fields_are_dropped(stream: io.StringIO) -> None:
    log_event(logging.getLogger("sottovoce.test"), "x", model=Sensitive(SECRET))
    assert SECRET not in stream.getvalue()


def test_warnings_are_captured_without_text(stream: io.StringIO) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"careful with {SECRET}", UserWarning, stacklevel=1)
    assert SECRET not in stream.getvalue()
    assert lines(stream)[0]["logger"] == "py.warnings"
