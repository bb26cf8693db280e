"""Malformed input carrying canaries, to every content route (issue 16).

Each request is broken one way (bad JSON, wrong types, invalid UTF-8, a truncated multipart
body, odd characters in a path parameter) and carries a fresh canary in its body, its query and
a header. Every answer is a 4xx in the route's surface's error shape (as the OpenAPI document
declares it) that does not echo the canary, and afterwards no canary is found anywhere the
server persists. Routes come from the server's own document, so a new route is covered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema_rs
import pytest

from sottovoce.audit.search import search
from tests.harness import RunningServer, new_canary

RAW_BODY = {("POST", "/v2/upload")}
"""Routes whose body is any bytes (an upload held in memory): any body is well formed."""


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    kind: str
    canary: str
    response: httpx.Response


def _bad_json(canary: str) -> tuple[bytes, str]:
    return f'{{"text": "{canary}", "input": "{canary}"'.encode(), "application/json"


def _wrong_types(canary: str) -> tuple[bytes, str]:
    return f'["{canary}", {{"text": ["{canary}"]}}]'.encode(), "application/json"


def _invalid_utf8(canary: str) -> tuple[bytes, str]:
    return b'{"text": "\xff\xfe' + canary.encode() + b'\xc3", "input": "\xc0\xaf"}', (
        "application/json"
    )


def _truncated_multipart(canary: str) -> tuple[bytes, str]:
    body = (
        f'--cut\r\nContent-Disposition: form-data; name="model_id"\r\n\r\n{canary}\r\n'
        f'--cut\r\nContent-Disposition: form-data; name="file"; filename="{canary}.wav"\r\n'
        f"Content-Type: audio/wav\r\n\r\nRIFF\x24\x00\x00\x00WAVEfmt {canary}"
    ).encode()
    return body, "multipart/form-data; boundary=cut"


BODIES = {
    "bad_json": _bad_json,
    "wrong_types": _wrong_types,
    "invalid_utf8": _invalid_utf8,
    "truncated_multipart": _truncated_multipart,
}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _send_all(server: RunningServer, key: str) -> tuple[list[Sent], dict[str, Any]]:
    document = httpx.get(f"{server.url}/openapi.json").json()
    sent: list[Sent] = []
    with httpx.Client(base_url=server.url, timeout=30) as http:

        def send(method: str, path: str, kind: str, body: bytes, media: str | None) -> None:
            canary = new_canary()
            odd = f"{canary}%00%ff..%0d%0a%E2%80%AE%22%3C" if kind == "odd_path" else canary
            url = re.sub(r"\{[^}]+\}", odd, path)
            headers = {"authorization": f"Bearer {key}", "x-canary": canary}
            if media:
                headers["content-type"] = media
            body = body.replace(b"CANARY", canary.encode())
            response = http.request(
                method, url, params={"canary": canary}, headers=headers, content=body
            )
            sent.append(Sent(method, path, kind, canary, response))

        for method, path, _operation in _operations(document):
            if method in ("POST", "PATCH", "PUT") and (method, path) not in RAW_BODY:
                for kind, make in BODIES.items():
                    body, media = make("CANARY")
                    send(method, path, kind, body, media)
            if "{" in path:
                send(method, path, "odd_path", b"", None)
    return sent, document


def _error_schema(document: dict[str, Any], sent: Sent) -> dict[str, Any] | None:
    operation = document["paths"][sent.path][sent.method.lower()]
    declared = operation["responses"].get(str(sent.response.status_code))
    if declared is None:
        return None
    schema: dict[str, Any] = declared["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


@pytest.fixture(scope="module")
def results(server: RunningServer) -> tuple[list[Sent], dict[str, Any]]:
    creds = server.create_workspace("malformed")
    return _send_all(server, creds.api_key)


def test_every_malformed_request_is_a_4xx_in_the_surface_shape(
    results: tuple[list[Sent], dict[str, Any]],
) -> None:
    sent, document = results
    kinds = {s.kind for s in sent}
    assert kinds == {*BODIES, "odd_path"}
    assert len(sent) > 100
    wrong: list[str] = []
    for s in sent:
        where = f"{s.method} {s.path} {s.kind} -> {s.response.status_code}"
        if not 400 <= s.response.status_code < 500:
            wrong.append(where)
            continue
        if s.canary in s.response.text:
            wrong.append(f"{where}: the canary is echoed")
            continue
        schema = _error_schema(document, s)
        if schema is None:
            wrong.append(f"{where}: status not in the document")
        elif not jsonschema_rs.validator_for(schema).is_valid(s.response.json()):
            wrong.append(f"{where}: not the surface's error shape: {s.response.text[:200]}")
    assert wrong == []


def test_no_canary_is_persisted(
    server: RunningServer, results: tuple[list[Sent], dict[str, Any]]
) -> None:
    sent, _document = results
    found = search(server.places(), [s.canary for s in sent])
    assert [(f.marker, f.place, f.form) for f in found] == []
    assert server.tmp_created() == []
