"""The command line: ``serve``, the operator's workspace and key administration, ``voices``
(adding a voice to a running server, with a progress bar: ``cli_voices.py``) and ``audit``
(``cli_audit.py``).

Every command reads its settings from the environment (``SOTTOVOCE_*``) and prints JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sottovoce.cli_audit import audit
from sottovoce.cli_voices import voices
from sottovoce.config import Settings
from sottovoce.errors import SottovoceError
from sottovoce.privacy.policy import Plan
from sottovoce.store import backups, keys, workspaces
from sottovoce.store.db import Store
from sottovoce.store.ids import now_ms
from sottovoce.store.workspace_deletion import delete_workspace

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Name the setting and the rule, never the value (it may be a secret).
        problems = sorted(
            {
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in exc.errors()
            }
        )
        raise click.ClickException(f"invalid settings: {'; '.join(problems)}") from None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@contextmanager
def _store() -> Iterator[Store]:
    store = Store.from_settings(load_settings())
    try:
        store.migrate()
        yield store
    finally:
        store.close()


def _in_session(fn: Callable[[Session], T]) -> T:
    try:
        with _store() as store, store.session() as session:
            return fn(session)
    except SottovoceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None


@click.group()
@click.version_option(package_name="sottovoce")
def main() -> None:
    """sottovoce: a self-hosted voice AI server with provable zero data retention."""


main.add_command(voices)
main.add_command(audit)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Start the server (settings from SOTTOVOCE_* environment variables)."""
    import tempfile

    import uvicorn

    from sottovoce.app import create_app
    from sottovoce.config import temporary_directories
    from sottovoce.engines.allocator import fix_mmap_threshold
    from sottovoce.privacy.logging import configure_logging
    from sottovoce.privacy.process import disable_core_dumps
    from sottovoce.serving import DrainingServer, header_deadline_protocol

    settings = load_settings()
    server = settings.server.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    settings = settings.model_copy(update={"server": server})
    disable_core_dumps()
    fix_mmap_threshold()  # before any model is loaded: see engines/allocator.py
    # Named now, so that no library's tempfile.gettempdir() probes it with a file of its own.
    tempfile.tempdir = str(temporary_directories()[0])
    configure_logging(settings.log_level, log_file=settings.log_file)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        ws="websockets-sansio",
        http=header_deadline_protocol(server.header_timeout_s),
        lifespan="on",
    )
    DrainingServer(config, app.state.drain).run()


@main.group()
def workspace() -> None:
    """Create and administer workspaces (operator commands)."""


@workspace.command("create")
@click.argument("name")
@click.option("--zdr", is_flag=True, help="Turn zero data retention on (enterprise plan).")
@click.option(
    "--plan",
    type=click.Choice([p.value for p in Plan]),
    default=None,
    help="Plan (default: enterprise with --zdr, else free).",
)
def workspace_create(name: str, zdr: bool, plan: str | None) -> None:
    """Create a workspace and its first admin key; prints {workspace_id, api_key}."""
    chosen = Plan(plan) if plan else (Plan.ENTERPRISE if zdr else Plan.FREE)

    def create(session: Session) -> dict[str, Any]:
        ws = workspaces.create(session, name, chosen, zdr)
        created = keys.create(session, ws.id, is_admin=True)
        return {"workspace_id": ws.id, "api_key": created.secret, "key_id": created.key.id}

    echo_json(_in_session(create))


@workspace.command("list")
def workspace_list() -> None:
    """List every workspace and its retention settings."""
    echo_json([asdict(ws) for ws in _in_session(workspaces.list_all)])


@workspace.command("restrict")
@click.argument("workspace_id")
@click.option("--reason", required=True, help="Told to the workspace's admin.")
def workspace_restrict(workspace_id: str, reason: str) -> None:
    """Withdraw zero data retention from a workspace, saying why."""
    echo_json(asdict(_in_session(lambda s: workspaces.restrict(s, workspace_id, reason))))


@workspace.command("unrestrict")
@click.argument("workspace_id")
def workspace_unrestrict(workspace_id: str) -> None:
    """Lift a restriction (ZDR stays off until the admin turns it on)."""
    echo_json(asdict(_in_session(lambda s: workspaces.restrict(s, workspace_id, None))))


@workspace.command("set-plan")
@click.argument("workspace_id")
@click.argument("plan", type=click.Choice([p.value for p in Plan]))
def workspace_set_plan(workspace_id: str, plan: str) -> None:
    """Change a workspace's plan (leaving enterprise turns ZDR off)."""
    echo_json(asdict(_in_session(lambda s: workspaces.set_plan(s, workspace_id, Plan(plan)))))


@workspace.command("delete")
@click.argument("workspace_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def workspace_delete(workspace_id: str, yes: bool) -> None:
    """Delete a workspace: its keys, history, usage, settings, and its encryption key."""
    if not yes:
        click.confirm(f"Delete {workspace_id} and everything it owns, for good?", abort=True)
    keep = load_settings().retention.keep_billing_totals
    with _store() as store:
        try:
            with store.session() as session:
                delete_workspace(session, workspace_id, keep_billing_totals=keep)
        except SottovoceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from None
        store.checkpoint()
    echo_json({"workspace_id": workspace_id, "deleted": True})


@main.group()
def key() -> None:
    """Create and revoke API keys (operator commands)."""


@key.command("create")
@click.argument("workspace_id")
@click.option("--admin", is_flag=True, help="The key may change workspace settings.")
def key_create(workspace_id: str, admin: bool) -> None:
    """Create a key; prints {workspace_id, api_key, key_id}. The key is shown only once."""
    created = _in_session(lambda s: keys.create(s, workspace_id, is_admin=admin))
    echo_json({"workspace_id": workspace_id, "api_key": created.secret, "key_id": created.key.id})


@key.command("revoke")
@click.argument("key_id")
def key_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    _in_session(lambda s: keys.revoke(s, key_id))
    echo_json({"key_id": key_id, "revoked": True})


@main.group()
def backup() -> None:
    """Database backups: create, list, restore, prune (the key store is never included)."""


@contextmanager
def _progress(message: str) -> Iterator[None]:
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


@backup.command("create")
def backup_create() -> None:
    """Take a consistent online snapshot of the database."""
    settings = load_settings()
    with _store() as store, _progress("Creating backup..."):
        made = backups.create(
            store, settings.resolved_backup_dir, settings.retention.backup_days, now_ms()
        )
    echo_json(asdict(made))


@backup.command("list")
def backup_list() -> None:
    """List backups with their creation time and expiry."""
    echo_json([asdict(b) for b in backups.list_all(load_settings().resolved_backup_dir)])


@backup.command("restore")
@click.argument("backup_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def backup_restore(backup_id: str, yes: bool) -> None:
    """Replace the database with a backup (stop the server first).

    Items and workspaces deleted since the backup stay deleted: their keys are gone.
    """
    settings = load_settings()
    try:
        chosen = backups.get(settings.resolved_backup_dir, backup_id)
        if not yes:
            click.confirm(f"Replace the database with {backup_id}?", abort=True)
        with _store() as store, _progress("Restoring backup..."):
            purged = backups.restore(store, settings.resolved_backup_dir, chosen)
    except SottovoceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    echo_json({"restored": backup_id, "deleted_items_purged": purged})


@backup.command("prune")
def backup_prune() -> None:
    """Delete backups past their expiry (retention.backup_days, default 30)."""
    removed = backups.prune(load_settings().resolved_backup_dir, now_ms())
    echo_json({"removed": [b.id for b in removed]})


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
