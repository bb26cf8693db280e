"""Sensitive[T]: every way of turning it into text or bytes hides the value."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from sottovoce.privacy.sensitive import Sensitive

SECRET = "patient John Doe, DOB 1970-01-01"


def test_text_forms_never_show_the_value() -> None:
    s = Sensitive(SECRET)
    for shown in (
        str(s),
        repr(s),
        f"{s}",
        f"{s!r}",
        f"{s:>40}",
        "%s" % s,
        "%r" % (s,),
        f"{s}",
        str([s]),
        str({"k": s}),
    ):
        assert SECRET not in shown
        assert "sensitive" in shown


def test_text_forms_say_only_the_size() -> None:
    assert str(Sensitive(SECRET)) == f"<sensitive: {len(SECRET)} chars>"
    assert str(Sensitive(b"\x00\x01\x02")) == "<sensitive: 3 bytes>"


def test_reveal_is_the_only_way_out() -> None:
    assert Sensitive(SECRET).reveal() == SECRET
    assert Sensitive(SECRET).map(str.upper).reveal() == SECRET.upper()


def test_json_encoding_refuses() -> None:
    with pytest.raises(TypeError) as info:
        json.dumps({"text": Sensitive(SECRET)})
    assert SECRET not in str(info.value)


def test_pickle_and_copy_refuse() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Sensitive(SECRET))
    with pytest.raises(TypeError):
        copy.deepcopy(Sensitive(SECRET))


def test_immutable_and_unhashable() -> None:
    s = Sensitive(SECRET)
    with pytest.raises(AttributeError):
        s._value = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(s)


def test_logging_a_sensitive_value_shows_only_its_size(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").debug("got %s", Sensitive(SECRET))
    assert SECRET not in caplog.text


class Request(BaseModel):
    text: Sensitive[str]


def test_pydantic_field_wraps_and_validates() -> None:
    request = Request.model_validate({"text": SECRET})
    assert isinstance(request.text, Sensitive)
    assert request.text.reveal() == SECRET
    assert SECRET not in repr(request)
    assert SECRET not in str(request)


def test_pydantic_model_refuses_to_serialise_content() -> None:
    request = Request.model_validate({"text": SECRET})
    with pytest.raises(PydanticSerializationError) as info:
        request.model_dump_json()
    assert SECRET not in str(info.value)
