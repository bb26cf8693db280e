"""``sottovoce voices``: add a voice from samples to a running server and watch it being made.

Approximate voice matching runs for minutes in the server (a background job); ``add`` uploads
the samples (``POST /v1/voices/add``) and then, like ``wait``, polls ``GET /v1/voices/{id}``
and draws its ``fine_tuning`` progress as a bar on stderr until the voice is ready or failed.
The key comes from ``--api-key`` or ``SOTTOVOCE_API_KEY``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

DONE = ("fine_tuned", "failed")
URL = click.option("--url", default="http://127.0.0.1:8000", show_default=True)
KEY = click.option("--api-key", envvar="SOTTOVOCE_API_KEY", required=True, help="A workspace key.")


def _state(voice: dict[str, Any]) -> tuple[str, float]:
    tuning = voice.get("fine_tuning") or {}
    state = next(iter((tuning.get("state") or {}).values()), "fine_tuned")
    progress = next(iter((tuning.get("progress") or {}).values()), 1.0)
    return str(state), float(progress or 0.0)


def _fail(response: httpx.Response) -> click.ClickException:
    try:
        error = response.json().get("error", {})
        return click.ClickException(
            f"{response.status_code} {error.get('code')}: {error.get('message')}"
        )
    except ValueError:
        return click.ClickException(f"HTTP {response.status_code}")


def wait_for(client: httpx.Client, voice_id: str, timeout: float, interval: float = 1.0) -> str:
    """Poll until the voice is ready or failed, drawing a progress bar; its final state."""
    columns = (TextColumn("matching"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TextColumn("{task.description}"), TimeElapsedColumn())  # fmt: skip
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("queued", total=1.0)
        while True:
            response = client.get(f"/v1/voices/{voice_id}")
            if response.status_code != 200:
                raise _fail(response)
            state, progress = _state(response.json())
            bar.update(task, completed=progress, description=state)
            if state in DONE:
                return state
            if time.monotonic() > deadline:
                raise click.ClickException("gave up waiting; the job goes on in the server")
            time.sleep(interval)


@click.group()
def voices() -> None:
    """A running server's voices (approximate voice matching)."""


@voices.command("add")
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--description", default=None)
@click.option("--wait/--no-wait", default=True, help="Show progress until the voice is ready.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait at most.")
@URL
@KEY
def voices_add(
    name: str, files: tuple[str, ...], description: str | None, wait: bool, timeout: float,
    url: str, api_key: str,
) -> None:  # fmt: skip
    """Match a voice to the sample FILES and call it NAME."""
    uploads = [("files", (Path(f).name, Path(f).read_bytes())) for f in files]
    data = {"name": name, **({"description": description} if description else {})}
    with httpx.Client(base_url=url, headers={"xi-api-key": api_key}, timeout=120) as client:
        response = client.post("/v1/voices/add", files=uploads, data=data)
        if response.status_code != 200:
            raise _fail(response)
        voice_id = response.json()["voice_id"]
        state = wait_for(client, voice_id, timeout) if wait else "queued"
    click.echo(json.dumps({"voice_id": voice_id, "state": state}))
    if state == "failed":
        raise SystemExit(1)


@voices.command("wait")
@click.argument("voice_id")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait at most.")
@URL
@KEY
def voices_wait(voice_id: str, timeout: float, url: str, api_key: str) -> None:
    """Show a voice's matching progress until it is ready or failed."""
    with httpx.Client(base_url=url, headers={"xi-api-key": api_key}, timeout=60) as client:
        state = wait_for(client, voice_id, timeout)
    click.echo(json.dumps({"voice_id": voice_id, "state": state}))
    if state == "failed":
        raise SystemExit(1)
