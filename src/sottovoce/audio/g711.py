"""G.711 mu-law and A-law (telephony), in numpy: 16-bit linear PCM <-> 8-bit codes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
UInt8Array = npt.NDArray[np.uint8]

_MULAW_BIAS = 0x21


def _segment(magnitude: npt.NDArray[np.int32], first_boundary: int) -> npt.NDArray[np.int32]:
    """The G.711 segment (0-7): position of the highest set bit above ``first_boundary``."""
    segment = np.zeros(magnitude.shape, dtype=np.int32)
    for exponent in range(1, 8):
        segment[magnitude >= (first_boundary << exponent)] = exponent
    return segment


def mulaw_encode(pcm: Int16Array) -> UInt8Array:
    # The reference (ITU-T G.191, Sun's g711.c) works on 14-bit values, floor-shifted.
    x = pcm.astype(np.int32) >> 2
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x) + _MULAW_BIAS, 0x1FFF)
    exponent = _segment(magnitude, 0x20)
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    codes: UInt8Array = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes


def mulaw_decode(codes: UInt8Array) -> Int16Array:
    u = ~codes.astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def alaw_encode(pcm: Int16Array) -> UInt8Array:
    x = pcm.astype(np.int32)
    # A-law works on 13-bit magnitudes; positive values carry the sign bit (0x80).
    sign = np.where(x >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(x >= 0, x, -x - 1), 32767) >> 3
    exponent = _segment(magnitude, 0x10)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    codes: UInt8Array = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return codes


def alaw_decode(codes: UInt8Array) -> Int16Array:
    a = codes.astype(np.int32) ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)
