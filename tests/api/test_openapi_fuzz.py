"""Schema fuzzing of the OpenAPI document against the shared real server (issue 16).

A few seeded examples per operation, valid and invalid: no 5xx, every response as the document
says (status, media type, body schema), and valid content requests succeed. ``make fuzz`` runs
the same with many more examples."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.openapi_fuzz import audio_paths, run
from tests.harness import RunningServer

SLOW = frozenset({"POST /v1/text-to-voice/design (positive)"})
"""Left to ``make fuzz``: designing voices takes minutes on a small machine."""

CHECKED_BY_HAND = frozenset(
    f"{operation} (positive)"
    for operation in (
        "POST /tts/bytes",
        "POST /tts/sse",
        "POST /tts/v1/voice",
        "POST /tts/v1/voice:stream",
        "PATCH /v1/workspace",
        "POST /v1/history/download",
        "POST /v1/text-to-voice",
        "POST /v2/transcript",
        "POST /v1/speak",
        "POST /v1/listen",
    )
)
"""Operations whose bodies the routes check beyond their models (Cartesia's and Inworld's
output formats, null settings, empty ids, unknown preview ids, languages, Deepgram's query): the
document must say what they refuse. Each case is cheap (a random voice or id is a 404 before any
work)."""


def test_the_document_tells_the_truth_under_fuzzing(server: RunningServer) -> None:
    creds = server.create_workspace("fuzz")
    report = run(server.url, creds.api_key, examples=1, timeout=60, skip=SLOW)
    assert report.cases > 100, report.summary()
    assert report.server_errors == [], report.summary()
    assert report.violations == [], report.summary()
    assert report.rejected_valid == [], report.summary()
    # Content requests the document calls valid are served, not only refused.
    assert len(set(report.content_successes)) >= 2, report.summary()
    assert not Path(".hypothesis").exists()


def test_what_the_document_calls_valid_is_not_refused(server: RunningServer) -> None:
    """More valid cases where the checks are the routes' own: none is a 422."""
    creds = server.create_workspace("valid")
    report = run(server.url, creds.api_key, examples=8, timeout=60, only=CHECKED_BY_HAND)
    assert report.cases >= 8 * len(CHECKED_BY_HAND) // 2, report.summary()
    assert report.rejected_valid == [], report.summary()
    assert report.server_errors == [], report.summary()


def test_every_body_is_described(server: RunningServer) -> None:
    """Bodies read by hand (multipart uploads, raw audio) are in the document too, with their
    audio parts, so that generated clients and the fuzzer can build them."""
    document = httpx.get(f"{server.url}/openapi.json").json()
    uploads = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "patch", "put"):
                continue
            body = operation.get("requestBody")
            assert body is not None, (method, path)
            for media_type, content in body["content"].items():
                audio = list(audio_paths(content["schema"], document))
                if media_type != "application/json":
                    uploads[f"{method.upper()} {path}"] = (media_type, audio)
    parts = {"file": [(("file",), False)], "audio": [(("audio",), False)]}
    assert uploads == {
        "POST /v1/speech-to-text": ("multipart/form-data", parts["file"]),
        "POST /v1/audio/transcriptions": ("multipart/form-data", parts["file"]),
        "POST /stt": ("multipart/form-data", parts["file"]),
        "POST /v1/voices/add": ("multipart/form-data", [(("files", "[]"), False)]),
        "POST /voices/clone": ("multipart/form-data", [(("clip",), False)]),
        **{
            f"POST /v1/{name}/{{voice_id}}{stream}": ("multipart/form-data", parts["audio"])
            for name in ("speech-to-speech", "voice-changer")
            for stream in ("", "/stream")
        },
        "POST /v1/listen": ("application/octet-stream", [((), False)]),
        "POST /v2/upload": ("application/octet-stream", [((), False)]),
    }
    form = document["paths"]["/v1/speech-to-text"]["post"]["requestBody"]
    assert form["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


def test_an_unsupported_method_answers_405_with_allow(server: RunningServer) -> None:
    creds = server.create_workspace("trace")
    auth = {"authorization": f"Bearer {creds.api_key}"}
    for path, allowed in (
        ("/v1/history", {"GET"}),
        ("/v1/history/some-id", {"GET", "DELETE"}),
        ("/v1/audio/speech", {"POST"}),
    ):
        response = httpx.request("TRACE", server.url + path, headers=auth)
        assert response.status_code == 405
        assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_negative_design_seed_is_a_422_not_a_500(server: RunningServer) -> None:
    """Found by ``make fuzz``: numpy refused a negative seed with a ValueError (500)."""
    creds = server.create_workspace("seed")
    response = httpx.post(
        f"{server.url}/v1/text-to-voice/design",
        headers={"xi-api-key": creds.api_key},
        json={"voice_description": "a calm low voice", "seed": -1},
    )
    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "invalid_request"
    assert response.json()["detail"]["fields"] == ["seed"]


def test_a_nul_in_a_text_to_speak_is_not_a_500(server: RunningServer) -> None:
    """Found by ``make fuzz``: a NUL in the text made the engine fail (500)."""
    creds = server.create_workspace("nul")
    auth = {"authorization": f"Token {creds.api_key}"}
    spoken = httpx.post(f"{server.url}/v1/speak", headers=auth, json={"text": "Hi\u0000 there."})
    assert spoken.status_code == 200
    assert spoken.headers["content-type"].startswith("audio/")
    nothing = httpx.post(f"{server.url}/v1/speak", headers=auth, json={"text": "\u0000\u0007"})
    assert nothing.status_code == 422
    assert nothing.json()["error"]["code"] == "invalid_request"
