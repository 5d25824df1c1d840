"""`pinads serve` (web UI + JSON API), `pinads users create|set-password`,
`pinads tokens create|list|delete`."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import typer

from pinads.errors import ConfigError
from pinads.settings import load_settings

if TYPE_CHECKING:
    from pinads.web.users import WebUsers

__all__ = ["exposure_warning", "register"]

users_app = typer.Typer(help="Web users (log in to `pinads serve`).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the JSON API.", no_args_is_help=True)


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

    from pinads.web import create_app

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


def _record(store: WebUsers, action: str, target: str, **details: str) -> None:
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


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    again: str = typer.prompt("Repeat the password", hide_input=True)
    if first != again:
        raise ConfigError("the passwords differ: run the command again")
    return first


@users_app.command("create")
def users_create(
    username: str = typer.Argument("admin", help="User name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Create a web user, or set a new password for an existing one."""
    from pinads.state import open_control_db
    from pinads.web.users import WebUsers

    password = _read_password(password_stdin)
    store = WebUsers(open_control_db(load_settings()))
    try:
        created = store.set_user(username, password)
        _record(store, "user.create" if created else "user.password", username)
    finally:
        store.db.close()
    typer.echo(f"{'created user' if created else 'new password set for'} {username}")


@users_app.command("set-password")
def users_set_password(
    username: str = typer.Argument(..., help="User name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Set a new password for an existing web user; its web sessions are logged out."""
    from pinads.state import open_control_db
    from pinads.web.users import WebUsers

    store = WebUsers(open_control_db(load_settings()))
    try:
        if not store.user_exists(username):
            raise ConfigError(
                f"no user {username!r}: create it with `pinads users create {username}`"
            )
        store.set_password(username, _read_password(password_stdin))
        _record(store, "user.password", username)
    finally:
        store.db.close()
    typer.echo(f"new password set for {username}; its web sessions were logged out")


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="What the token is for, e.g. airflow."),
    user: str = typer.Option("admin", "--user", help="The web user the token acts as."),
) -> None:
    """Create an API token (shown once; only its hash is stored)."""
    from pinads.state import open_control_db
    from pinads.web.users import WebUsers

    store = WebUsers(open_control_db(load_settings()))
    try:
        token = store.create_token(name=name, username=user)
        _record(store, "token.create", name, user=user)
    finally:
        store.db.close()
    typer.echo(token)
    typer.echo("send it as `Authorization: Bearer <token>`; it is not shown again", err=True)


@tokens_app.command("list")
def tokens_list() -> None:
    """API tokens (names and dates, never the tokens)."""
    from pinads.state import open_control_db
    from pinads.web.users import WebUsers

    store = WebUsers(open_control_db(load_settings()))
    try:
        tokens = store.tokens()
    finally:
        store.db.close()
    if not tokens:
        typer.echo("no API tokens: create one with `pinads tokens create NAME`")
        return
    typer.echo("id\tname\tuser\tcreated\tlast used")
    for t in tokens:
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never used"
        typer.echo(f"{t.id}\t{t.name}\t{t.username}\t{t.created_at:%Y-%m-%d}\t{used}")


@tokens_app.command("delete")
def tokens_delete(
    token_id: int = typer.Argument(..., help="Id from `pinads tokens list`."),
) -> None:
    """Delete an API token (requests with it are refused from now on)."""
    from pinads.state import open_control_db
    from pinads.web.users import WebUsers

    store = WebUsers(open_control_db(load_settings()))
    try:
        store.delete_token(token_id)
        _record(store, "token.delete", str(token_id))
    finally:
        store.db.close()
    typer.echo(f"deleted API token {token_id}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("audit")(audit_command)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
