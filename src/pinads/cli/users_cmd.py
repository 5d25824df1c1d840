"""`pinads users list|create|set-password|set-role|disable|enable|unlock|delete` and
`pinads tokens create|list|delete`. Every change is in the audit log (actor `cli:<os user>`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from pinads.cli.web_cmd import record
from pinads.errors import ConfigError
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.state.db import utc_now
from pinads.web.roles import Role
from pinads.web.users import WebUsers

__all__ = ["register"]

users_app = typer.Typer(help="Web users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the JSON API.", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="User name.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


@contextmanager
def _users() -> Iterator[WebUsers]:
    store = WebUsers(open_control_db(load_settings()))
    try:
        yield store
    finally:
        store.db.close()


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    again: str = typer.prompt("Repeat the password", hide_input=True)
    if first != again:
        raise ConfigError("the passwords differ: run the command again")
    return first


@users_app.command("list")
def users_list() -> None:
    """Users, their roles and whether they are disabled."""
    with _users() as store:
        users = store.users()
    if not users:
        typer.echo("no users: create one with `pinads users create NAME`")
        return
    typer.echo("user\trole\tstatus\tcreated")
    for u in users:
        status = f"disabled {u.disabled_at:%Y-%m-%d}" if u.disabled_at else "active"
        typer.echo(f"{u.username}\t{u.role}\t{status}\t{u.created_at:%Y-%m-%d}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="User name.")] = "admin",
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")] = Role.ADMIN,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a web user with a role (default admin), or set a new password for an existing
    one (its role stays)."""
    password = _read_password(password_stdin)
    with _users() as store:
        created = store.set_user(username, password, role=role)
        if created:
            record(store, "user.create", username, role=role.value)
        else:
            record(store, "user.password", username)
    typer.echo(
        f"created user {username} ({role.value})" if created else f"new password set for {username}"
    )


@users_app.command("set-password")
def users_set_password(username: UserArg, password_stdin: PasswordStdin = False) -> None:
    """Set a new password for an existing web user; its web sessions are logged out."""
    with _users() as store:
        if not store.user_exists(username):
            raise ConfigError(
                f"no user {username!r}: create it with `pinads users create {username}`"
            )
        store.set_password(username, _read_password(password_stdin))
        record(store, "user.password", username)
    typer.echo(f"new password set for {username}; its web sessions were logged out")


@users_app.command("set-role")
def users_set_role(
    username: UserArg, role: Annotated[Role, typer.Argument(help="The new role.")]
) -> None:
    """Change a user's role (its tokens never act beyond it)."""
    with _users() as store:
        store.set_role(username, role)
        record(store, "user.role", username, role=role.value)
    typer.echo(f"{username} is now {role.value}")


def _action(name: str, audit: str, done: str) -> Callable[[str], None]:
    def command(username: UserArg) -> None:
        with _users() as store:
            getattr(store, name)(username)
            record(store, audit, username)
        typer.echo(f"{username} {done}")

    command.__doc__ = f"{name.capitalize()} a user: afterwards it is {done}."
    return command


_ACTIONS = (
    ("disable", "user.disable", "disabled (its sessions ended; it and its tokens are refused)"),
    ("enable", "user.enable", "enabled"),
    ("unlock", "user.unlock", "unlocked (its failed logins are forgotten)"),
    ("delete", "user.delete", "deleted, with its API tokens"),
)
for _name, _audit, _done in _ACTIONS:
    users_app.command(_name)(_action(_name, _audit, _done))


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. airflow.")],
    user: Annotated[str, typer.Option("--user", help="The web user it acts as.")] = "admin",
    role: Annotated[
        Role | None,
        typer.Option("--role", help="Its role, at most the user's (default: the user's)."),
    ] = None,
    expires_days: Annotated[
        int | None,
        typer.Option("--expires-days", min=1, help="Refused this many days from now."),
    ] = None,
) -> None:
    """Create an API token (shown once; only its hash is stored)."""
    expires = utc_now() + timedelta(days=expires_days) if expires_days else None
    with _users() as store:
        token = store.create_token(name=name, username=user, role=role, expires_at=expires)
        details = {"user": user, "role": role.value if role else "the user's"}
        if expires is not None:
            details["expires"] = f"{expires:%Y-%m-%d %H:%M} UTC"
        record(store, "token.create", name, **details)
    typer.echo(token)
    typer.echo("send it as `Authorization: Bearer <token>`; it is not shown again", err=True)


@tokens_app.command("list")
def tokens_list() -> None:
    """API tokens (names, roles and dates, never the tokens)."""
    with _users() as store:
        tokens = store.tokens()
    if not tokens:
        typer.echo("no API tokens: create one with `pinads tokens create NAME`")
        return
    typer.echo("id\tname\tuser\trole\tcreated\texpires\tlast used")
    for t in tokens:
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never used"
        expires = f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never"
        typer.echo(
            f"{t.id}\t{t.name}\t{t.username}\t{t.role or 'as user'}\t{t.created_at:%Y-%m-%d}\t"
            f"{expires}\t{used}"
        )


@tokens_app.command("delete")
def tokens_delete(
    token_id: Annotated[int, typer.Argument(help="Id from `pinads tokens list`.")],
) -> None:
    """Delete an API token (requests with it are refused from now on)."""
    with _users() as store:
        store.delete_token(token_id)
        record(store, "token.delete", str(token_id))
    typer.echo(f"deleted API token {token_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
