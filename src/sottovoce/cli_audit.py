"""``sottovoce audit``: the canary audit from the command line, its report signed on request
(``--sign``), and the auditor's side: ``audit keygen`` and ``audit verify``
(:mod:`sottovoce.audit.signing`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sottovoce.audit import signing
from sottovoce.audit.signing import SigningError, settings_fingerprint


def _signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        return signing.load_private_key(path)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("audit", invoke_without_command=True)
@click.option("--url", default=None, help="Audit this running server instead of starting one.")
@click.option(
    "--tmp-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The running server's TMPDIR (with --url).",
)
@click.option(
    "--home-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The running server's home directory, whose .cache is searched (with --url; "
    "default: yours).",
)
@click.option(
    "--log-file",
    "log_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file the server's output goes to (repeatable).",
)
@click.option(
    "--search-dir",
    "search_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Another directory to search, e.g. the PostgreSQL data directory (repeatable).",
)
@click.option("--json", "json_out", default=None, help="Write the JSON report here ('-': stdout).")
@click.option(
    "--only",
    "only",
    multiple=True,
    help="Run only the probes whose name starts with this (repeatable).",
)
@click.option(
    "--jobs",
    default=2,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Probes run at a time (1: one after the other).",
)
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Sign the JSON report with this Ed25519 private key (PEM; needs --json).",
)
@click.pass_context
def audit(
    ctx: click.Context,
    url: str | None,
    tmp_dir: Path | None,
    home_dir: Path | None,
    log_files: tuple[Path, ...],
    search_dirs: tuple[Path, ...],
    json_out: str | None,
    only: tuple[str, ...],
    jobs: int,
    sign_key: Path | None,
) -> None:
    """Prove that zero-retention requests leave nothing behind (exit 1 on any leak).

    ``audit keygen`` makes a signing key pair; ``audit verify`` checks a signed report."""
    if ctx.invoked_subcommand is not None:
        return
    import tempfile

    from sottovoce.config import temporary_directories

    # Named now, untouched: tempfile.gettempdir() would probe it with a file of its own, and
    # with --url it is often the audited server's own TMPDIR (the console's runs inherit it).
    tempfile.tempdir = str(temporary_directories()[0])
    from rich.console import Console
    from rich.progress import Progress

    from sottovoce.app import SURFACES
    from sottovoce.audit.run import AuditReport
    from sottovoce.audit.run import audit as run_audit
    from sottovoce.audit.server import attach, start_own_server
    from sottovoce.cli import load_settings

    settings = load_settings()
    key = None
    if sign_key is not None:
        if not json_out:
            raise click.ClickException("--sign needs --json (where the signed report goes)")
        key = _signing_key(sign_key)
    every = [p for surface in SURFACES for p in surface.probes]
    probes = [p for p in every if not only or p.name.startswith(only)]
    if not probes:
        raise click.ClickException("no probe matches --only")
    console = Console(stderr=True)
    with console.status("Starting the server..." if url is None else "Connecting..."):
        try:
            if url is None:
                target = start_own_server(settings, list(search_dirs))
            else:
                where = tmp_dir or Path(tempfile.tempdir)
                target = attach(url, settings, where, list(log_files), list(search_dirs), home_dir)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Probing", total=2 * len(probes))

            def tick(name: str) -> None:
                progress.update(task, advance=1, description=name)

            report: AuditReport = run_audit(target, probes, tick=tick, jobs=jobs)
    finally:
        target.stop()
        target.store.close()
    _print_report(console, report)
    report.settings_fingerprint = settings_fingerprint(settings)
    document = report.as_dict()
    if key is not None:
        document = signing.sign(document, key)
    if json_out == "-":
        click.echo(json.dumps(document, indent=2))
    elif json_out:
        Path(json_out).write_text(json.dumps(document, indent=2))
    if not report.ok:
        sys.exit(1)


def _print_report(console: Any, report: Any) -> None:
    from rich.table import Table

    table = Table(title="sottovoce audit")
    for column in ("run", "probe", "path", "status", "result"):
        table.add_column(column)
    for r in report.results:
        if r.leaks:
            result = "[red]LEAK: " + "; ".join(r.leaks) + "[/red]"
        elif r.expected_in_history:
            result = (
                "[green]kept in history[/green]" if r.found_in_history else "[red]missing[/red]"
            )
        else:
            result = "[green]no trace[/green]" if r.run == "zdr" else "no trace"
        table.add_row(r.run, r.probe, r.path, str(r.status), result)
    console.print(table)
    console.print(
        f"places searched: {report.places_searched}; control hits: {report.control_found}"
    )
    for problem in report.problems:
        console.print(f"[red]{problem}[/red]")
    console.print("[green]PASS[/green]" if report.ok else "[red]FAIL[/red]")


@audit.command("keygen")
@click.argument("private_key", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("public_key", type=click.Path(path_type=Path, dir_okay=False))
def keygen(private_key: Path, public_key: Path) -> None:
    """Make an Ed25519 key pair for signing reports (PEM files; the private one mode 0600).

    The same as ``openssl genpkey -algorithm ed25519 -out PRIVATE_KEY`` and
    ``openssl pkey -in PRIVATE_KEY -pubout -out PUBLIC_KEY``."""
    try:
        fingerprint = signing.generate(private_key, public_key)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {private_key} and {public_key}; public key sha256 {fingerprint}")


@audit.command("verify")
@click.argument("report", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The signer's Ed25519 public key (PEM).",
)
def verify(report: Path, public_key: Path) -> None:
    """Check a signed audit report: exit 0 when it is unchanged and signed by PUBLIC_KEY."""
    try:
        key = signing.load_public_key(public_key)
        try:
            document = json.loads(report.read_bytes())
        except OSError as exc:
            raise SigningError(f"cannot read the report {report}: {exc.strerror}") from None
        except ValueError:
            raise SigningError(f"{report} is not a JSON report") from None
        signing.verify(document, key)
    except SigningError as exc:
        click.echo(f"INVALID: {exc}", err=True)
        sys.exit(1)
    result = "PASS" if document.get("ok") is True else "FAIL"
    click.echo(
        f"OK: signed by {signing.key_id(key)}; audit {result}, sottovoce "
        f"{document.get('version')}, finished {document.get('finished_at')}"
    )
