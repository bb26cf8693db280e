"""A real HAProxy in front of test servers, run from Debian's binary with deploy/haproxy.cfg.

The shipped configuration is used as it is, but for where things are: it listens on a free
127.0.0.1 port, its servers are the given local replicas (no DNS resolvers), health checks run
more often (so a killed replica is marked down within a second), and an admin socket in its own
directory tells which servers are up (``show stat``).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.harness import free_port
from tests.polling import wait_for

SHIPPED = Path(__file__).resolve().parents[1] / "deploy" / "haproxy.cfg"
BACKEND = "replicas"


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )


def local_config(shipped: str, port: int, replicas: list[str], admin: Path, inter_ms: int) -> str:
    """The shipped configuration, pointed at local replicas (``host:port`` each)."""
    out: list[str] = []
    skipping = False
    for line in shipped.splitlines():
        words = line.split()
        if line and not line[0].isspace():  # a section header
            skipping = words[0] == "resolvers"
            if skipping:
                continue
            out.append(line)
            if words[0] == "global":
                out.append(f"    stats socket {admin} mode 600 level admin")
            continue
        if skipping or words[:1] == ["server"]:
            continue
        if words[:1] == ["bind"]:
            line = f"    bind 127.0.0.1:{port}"
        elif words[:1] == ["default-server"]:
            line = f"    default-server check inter {inter_ms}ms fall 2 rise 1"
            out.append(line)
            out += [f"    server replica-{i + 1} {r}" for i, r in enumerate(replicas)]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


class HAProxy:
    def __init__(self, root: Path, replicas: list[str], inter_ms: int = 250) -> None:
        binary = find_haproxy()
        if binary is None:
            raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.admin = root / "admin.sock"
        self.config = root / "haproxy.cfg"
        self.config.write_text(
            local_config(SHIPPED.read_text(), self.port, replicas, self.admin, inter_ms)
        )
        self.log = root / "haproxy.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "-db", "-f", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self._answers, "HAProxy's admin socket", timeout=20)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"haproxy exited:\n{self.log.read_text(errors='replace')}")
        try:
            self.states()
        except OSError:
            return False
        return True

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.admin))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """Each replica's state as HAProxy sees it: ``UP``, ``DOWN``, ``UP 1/2``..."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {
            row["svname"]: row["status"]
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] not in ("BACKEND", "FRONTEND")
        }

    def wait_until(self, replica: str, state: str, timeout: float = 30) -> None:
        wait_for(lambda: self.states().get(replica) == state, f"{replica} {state}", timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
