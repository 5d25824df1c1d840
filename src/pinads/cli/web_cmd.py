"""`pinads serve` (web UI + JSON API) and `pinads audit` (users and tokens: `users_cmd`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import typer

from pinads.settings import load_settings

if TYPE_CHECKING:
    from pinads.web.users import WebUsers

__all__ = ["exposure_warning", "record", "register"]


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def exposure_warning(host: str, *, secure_cookies: bool = False) -> str | None:
    """What to know before serving beyond this machine."""
    if host in _LOOPBACK or host.startswith("127."):
        return None
    if secure_cookies:
        return (
            f"note: listening on {host}; session cookies are sent over HTTPS only, so open the "
            "UI through your HTTPS reverse proxy (plain HTTP logins will not stick)"
        )
    return (
        f"warning: listening on {host}, reachable from other machines: serve it through an "
        "HTTPS reverse proxy and add --secure-cookies, since logins and session cookies "
        "travel in clear over HTTP"
    )


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    secure_cookies: bool = typer.Option(
        False,
        "--secure-cookies",
        envvar="PINADS_SECURE_COOKIES",
        help="Mark the session cookie Secure (HTTPS only): use behind an HTTPS reverse proxy.",
    ),
) -> None:
    """Serve the web UI and the JSON API (/api, OpenAPI at /api/openapi.json)."""
    import uvicorn

    from pinads.web.app import create_app

    app = create_app(load_settings(), secure_cookies=secure_cookies)
    # Audit entries go to the server's log as well as to the control DB.
    logging.getLogger("pinads.audit").setLevel(logging.INFO)
    warning = exposure_warning(host, secure_cookies=secure_cookies)
    if warning:
        typer.echo(warning, err=True)
    typer.echo(f"pinads web UI on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    # uvicorn trusts X-Forwarded-Proto/-For from a proxy on this machine (127.0.0.1), so
    # redirects and the OAuth callback URL say https behind a local TLS proxy.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


def record(store: WebUsers, action: str, target: str, **details: str) -> None:
    """A command-line change in the audit log (actor: the operating-system user)."""
    from pinads.web.audit import AuditLog, cli_actor

    AuditLog(store.db.audit).record(
        actor=cli_actor(), action=action, target=target, details={**details, "via": "cli"}
    )


def audit_command(
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="How many entries."),
    before: int | None = typer.Option(None, "--before", help="Entries older than this id."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action or area, e.g. login or source.delete."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only this user (or cli:NAME)."),
) -> None:
    """The audit log, newest first: logins, logouts, password changes, and changes made in
    the web UI, the JSON API and with `users`/`tokens` commands."""
    from pinads.state import open_control_db
    from pinads.web.audit import AuditLog
    from pinads.web.users import WebUsers

    store = WebUsers(open_control_db(load_settings()))
    try:
        entries = AuditLog(store.db.audit).entries(
            limit=limit, before=before, action=action, actor=actor
        )
    finally:
        store.db.close()
    if not entries:
        typer.echo("no audit entries" + (" matching the filters" if action or actor else ""))
        return
    typer.echo("id\tat (UTC)\tactor\taction\ttarget\taddress\tdetails")
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in e.details.items())
        typer.echo(
            f"{e.id}\t{e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.action}\t{e.target or '-'}\t"
            f"{e.address or '-'}\t{details}"
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("audit")(audit_command)
