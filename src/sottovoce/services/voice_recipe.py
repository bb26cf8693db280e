"""What a workspace voice is made of: a built-in voice to start from, a Kokoro style pack when
it is a blend, and pitch and formant shaping applied to its audio. Stored sealed with the voice.

A matched voice may start from any built-in voice (Piper's Joe, hibari's Heart or a Kokoro
pack), so the stored bytes say which: ``SVR1``, a two-byte header length, a JSON header
(``base``: the built-in voice id; ``pitch`` and ``formant``: ratios) and, for a Kokoro blend,
the float32 ``[510, 256]`` pack. Voices stored before shaping existed (and designed voices)
are a bare pack: Kokoro with that pack, unshaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sottovoce.audio.shaping import UNSHAPED, Shaping
from sottovoce.engines.kokoro_packs import DIMS, ROWS
from sottovoce.engines.voices import BUILT_IN, KUMO, Voice

MAGIC = b"SVR1"
PACK_BYTES = ROWS * DIMS * 4
BASES = {v.voice_id: v for v in BUILT_IN}


@dataclass(frozen=True)
class Recipe:
    base: Voice
    """The built-in voice whose engine speaks it (for a blend: any of Kokoro's)."""
    pack: bytes | None = None
    """A Kokoro style pack replacing the base's own (Kokoro bases only)."""
    shaping: Shaping = UNSHAPED

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "base": self.base.voice_id,
                "pitch": round(self.shaping.pitch, 4),
                "formant": round(self.shaping.formant, 4),
            }
        ).encode()
        return MAGIC + len(header).to_bytes(2, "little") + header + (self.pack or b"")


def from_bytes(data: bytes) -> Recipe:
    """The recipe stored for a voice (``ValueError`` for bytes that are none)."""
    if not data.startswith(MAGIC):
        if len(data) != PACK_BYTES:
            raise ValueError("not a voice recipe")
        return Recipe(KUMO, data)
    size = int.from_bytes(data[4:6], "little")
    header = json.loads(data[6 : 6 + size])
    pack = data[6 + size :] or None
    base = BASES.get(str(header["base"]))
    if base is None or (pack is not None and len(pack) != PACK_BYTES):
        raise ValueError("not a voice recipe")
    shaping = Shaping(float(header["pitch"]), float(header["formant"])).clipped()
    return Recipe(base, pack, shaping)
