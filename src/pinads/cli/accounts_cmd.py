"""`pinads accounts list`: the ad accounts each authorizer's user can see, with the user's roles.

An account without an analytics role (Owner, Admin, Analyst, Campaign Manager) is marked: a
source cannot read its analytics.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from pinads.auth import ANALYTICS_ROLES, AdAccount, Authorizer, AuthorizerService
from pinads.cli.auth_views import accounts_table, out
from pinads.errors import ConfigError, PinadsError

__all__ = ["register"]


def _visible(
    service: AuthorizerService, chosen: list[Authorizer], *, named: bool
) -> tuple[list[tuple[Authorizer, AdAccount]], PinadsError | None]:
    """(authorizer, account) rows. With every authorizer (`named` False) a revoked or failing
    one is reported and skipped, so it cannot hide the others' accounts; its error is kept
    for the exit code."""
    rows: list[tuple[Authorizer, AdAccount]] = []
    first_error: PinadsError | None = None
    for item in chosen:
        if item.is_revoked and not named:
            out.print(f"skipped revoked authorizer {escape(item.label)}")
            continue
        try:
            rows.extend((item, account) for account in service.accounts(item))
        except PinadsError as exc:
            if named:
                raise
            out.print(f"[red]skipped authorizer {escape(item.label)}[/]: {escape(exc.message)}")
            first_error = first_error or exc
    return rows, first_error


def list_(
    authorizer: Annotated[
        str | None, typer.Option("--authorizer", "-a", help="Label or id (default: all).")
    ] = None,
) -> None:
    """Ad accounts each authorizer's user can see, with the user's roles."""
    with AuthorizerService() as service:
        chosen = [service.get(authorizer)] if authorizer else service.list()
        if not chosen:
            raise ConfigError("no authorizers yet: add one with `pinads auth add`")
        rows, error = _visible(service, chosen, named=authorizer is not None)
    out.print(accounts_table(rows))
    missing = sum(not account.has_analytics_role for _, account in rows)
    if missing:
        out.print(
            f"{missing} account(s) lack an analytics role ({', '.join(ANALYTICS_ROLES)}): "
            "sources cannot read their analytics; ask each account's owner for one"
        )
    if error is not None:
        raise typer.Exit(error.exit_code)


def register(app: typer.Typer) -> None:
    accounts = typer.Typer(help="Ad accounts visible to your authorizers.", no_args_is_help=True)
    app.add_typer(accounts, name="accounts")
    accounts.command("list")(list_)
