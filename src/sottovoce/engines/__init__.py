"""The engines: one module per engine or provider, behind one protocol per capability.

Importing this package switches onnxruntime's telemetry off before any engine can import it:
from 1.29 on, onnxruntime writes device and session files into TMPDIR and ``~/.cache`` on
import unless ``ORT_DISABLE_TELEMETRY`` is already set (setting it later does not help). The
pinned version writes nothing, but a newer one could arrive with any dependency.
"""

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"
