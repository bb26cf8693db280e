"""Kokoro style packs and the arithmetic that makes new voices from them. Pure numpy, no I/O.

A Kokoro voice is a style pack: float32 ``[510, 256]``, one 256-d style vector per input
length (row ``n - 1`` for ``n`` phonemes). Dimensions 0-127 carry timbre, 128-255 prosody and
pitch. Any such array is a voice; the five packs that ship (all Japanese voices, which speak
English with an accent) span a small space of voices:

- **blends**: ``mean + sum_k a_k (P_k - mean)`` on the timbre half and ``... b_k ...`` on the
  prosody half (ten numbers; one-hot ``a = b = e_k`` is pack ``k`` itself);
- **the gender axis**: ``jm_kumo`` minus the mean of the ``jf_*`` packs moves the voice from a
  high female to a low male pitch (intelligible from the midpoint on).

Voice design maps words of a description to a point of that space; approximate voice matching
searches it (:mod:`sottovoce.services.voice_matching`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ROWS, DIMS = 510, 256
HALF = DIMS // 2
PACK_NAMES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
FEMALE = PACK_NAMES[:4]
MALE = "jm_kumo"
PARAMS = 2 * len(PACK_NAMES)
"""Length of a blend's parameter vector: timbre weights, then prosody weights."""
BOUNDS = (-1.0, 2.0)
"""Each blend weight stays within these (past 1: beyond a pack, still a voice)."""

Pack = npt.NDArray[np.float32]


def to_bytes(pack: Pack) -> bytes:
    return np.ascontiguousarray(pack, dtype="<f4").reshape(ROWS, DIMS).tobytes()


def from_bytes(data: bytes) -> Pack:
    if len(data) != ROWS * DIMS * 4:
        raise ValueError("not a style pack")
    return np.frombuffer(data, dtype="<f4").reshape(ROWS, DIMS).copy()


@dataclass(frozen=True)
class PackSpace:
    """The shipped packs and the directions between them."""

    packs: dict[str, Pack]

    @classmethod
    def of(cls, packs: dict[str, Pack]) -> PackSpace:
        missing = [name for name in PACK_NAMES if name not in packs]
        if missing:
            raise ValueError("style packs missing")
        return cls({n: np.asarray(packs[n], np.float32).reshape(ROWS, DIMS) for n in PACK_NAMES})

    @property
    def mean(self) -> Pack:
        mean: Pack = np.mean([self.packs[n] for n in PACK_NAMES], axis=0).astype(np.float32)
        return mean

    @property
    def gender_axis(self) -> Pack:
        """Female mean to male: adding it lowers the pitch."""
        female = np.mean([self.packs[n] for n in FEMALE], axis=0)
        axis: Pack = (self.packs[MALE] - female).astype(np.float32)
        return axis

    def blend(self, params: npt.NDArray[np.float64]) -> Pack:
        """The pack at ``params`` (timbre weights, then prosody weights, one per pack)."""
        weights = np.clip(np.asarray(params, np.float64), *BOUNDS)
        mean = self.mean
        out = mean.copy()
        for k, name in enumerate(PACK_NAMES):
            direction = self.packs[name] - mean
            out[:, :HALF] += weights[k] * direction[:, :HALF]
            out[:, HALF:] += weights[len(PACK_NAMES) + k] * direction[:, HALF:]
        return out.astype(np.float32)

    def params_of(self, name: str) -> npt.NDArray[np.float64]:
        """The blend parameters that give pack ``name`` itself."""
        one_hot = np.array([1.0 if n == name else 0.0 for n in PACK_NAMES])
        return np.concatenate([one_hot, one_hot])

    def shifted(self, pack: Pack, gender: float) -> Pack:
        """``pack`` moved along the gender axis (positive: lower, more male)."""
        return (pack + gender * self.gender_axis).astype(np.float32)


@dataclass(frozen=True)
class DesignedPack:
    """A built-in voice made by arithmetic on the shipped packs."""

    name: str
    timbre: dict[str, float]
    prosody: dict[str, float]
    gender: float = 0.0

    def build(self, space: PackSpace) -> Pack:
        params = np.zeros(PARAMS)
        for k, pack_name in enumerate(PACK_NAMES):
            params[k] = self.timbre.get(pack_name, 0.0)
            params[len(PACK_NAMES) + k] = self.prosody.get(pack_name, 0.0)
        return space.shifted(space.blend(params), self.gender)
