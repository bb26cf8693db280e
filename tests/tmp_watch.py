"""Every entry created in a directory, even one deleted at once: an inotify watch (Linux).

"TMPDIR is empty afterwards" cannot see a file that was created and deleted at once (SQLite's
``etilqs_*`` spill files were exactly that). The kernel queues an event for every creation in a
watched directory; :class:`CreationWatch` reads them when asked, so nothing runs in the
background. The server's TMPDIR starts empty, so watching its top level is enough: anything
created below it was first a new entry there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

IN_CREATE = 0x00000100
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then the name, NUL-padded


class CreationWatch:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.created: list[str] = []
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        wd = libc.inotify_add_watch(self._fd, str(directory).encode(), IN_CREATE | IN_MOVED_TO)
        if wd < 0:
            os.close(self._fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch failed on {directory}")

    def read(self) -> list[str]:
        """Every name created so far (the queue is drained into :attr:`created`)."""
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return list(self.created)
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length]
                offset += _EVENT.size + length
                if mask & IN_Q_OVERFLOW:
                    self.created.append("(too many events: the queue overflowed)")
                elif mask & (IN_CREATE | IN_MOVED_TO):
                    self.created.append(name.rstrip(b"\0").decode(errors="replace"))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
