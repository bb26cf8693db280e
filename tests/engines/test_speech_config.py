"""Speech providers as the operator configures them: in settings or a providers file, each
declaring per mode what it retains (the vendor's default unless declared), and only the models
it was given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from sottovoce.config import Settings, SpeechProvider
from sottovoce.engines.registry import build_registry
from sottovoce.privacy.providers import Mode, RetentionDeclaration


def test_providers_come_from_settings_and_a_file(tmp_path: Path) -> None:
    listed = tmp_path / "providers.json"
    listed.write_text(
        json.dumps(
            [
                {
                    "kind": "assemblyai",
                    "base_url": "https://api.assemblyai.com",
                    "streaming_url": "wss://streaming.assemblyai.com",
                    "stt_models": ["universal"],
                    "retention_sync": "zdr-by-agreement",
                }
            ]
        )
    )
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path,
            "engines": {"preload": False},
            "llm": {"embedded_model": False},
            "speech": {
                "providers_file": listed,
                "providers": [
                    {
                        "kind": "deepgram",
                        "name": "dg-eu",
                        "base_url": "https://api.eu.deepgram.com",
                        "api_key": "secret",
                        "stt_models": ["nova-3"],
                        "tts_models": ["aura-2-thalia-en"],
                    }
                ],
            },
        }
    )
    models = {m.model_id: m for m in build_registry(settings).models()}
    assert {"dg-eu/nova-3", "dg-eu/aura-2-thalia-en", "assemblyai/universal"} <= set(models)
    agreed = models["assemblyai/universal"].provider
    assert agreed.declaration(Mode.SYNC) is RetentionDeclaration.ZDR_BY_AGREEMENT
    assert agreed.declaration(Mode.STREAMING) is RetentionDeclaration.NONE  # the default
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    "provider",
    [
        {"kind": "groq", "base_url": "https://g", "tts_models": ["x"]},  # Groq speaks no TTS here
        {"kind": "cartesia", "base_url": "https://c", "stt_models": ["x"]},
        {"kind": "deepgram", "base_url": "https://d"},  # no model at all
        {"kind": "deepgram", "name": "local", "base_url": "https://d", "stt_models": ["x"]},
        {"kind": "soniox", "base_url": "ftp://s", "stt_models": ["x"]},
    ],
)
def test_unsound_providers_are_refused(provider: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SpeechProvider.model_validate(provider)


def test_provider_names_are_unique(tmp_path: Path) -> None:
    twice = {"kind": "deepgram", "base_url": "https://d", "stt_models": ["nova-3"]}
    settings = Settings.model_validate({"speech": {"providers": [twice, twice]}})
    with pytest.raises(ValueError, match="unique"):
        settings.speech.all_providers()
