"""`pinads auth add|list|show|rename|test|reauthorize|revoke|delete` and `pinads accounts list`.

Tokens and client secrets are never printed: only labels, users, scopes and expiry times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pinads.api import PRODUCTION_API_URL
from pinads.auth import (
    REFRESH_WARNING,
    AdAccount,
    Authorizer,
    AuthorizerService,
    CodeFlowOptions,
)
from pinads.errors import ConfigError
from pinads.state import sources_using_authorizer

__all__ = ["register"]


class _LazyConsole:
    """A console made at print time, so the terminal width (COLUMNS) of the moment applies."""

    def print(self, *objects: object, **kwargs: Any) -> None:
        Console(highlight=False, soft_wrap=True).print(*objects, **kwargs)


_out = _LazyConsole()

LabelArg = Annotated[str, typer.Argument(help="The authorizer's label or id.")]
NoBrowser = Annotated[
    bool,
    typer.Option(
        "--no-browser", help="Do not start a callback server: paste the redirect URL instead."
    ),
]
RedirectUri = Annotated[
    str | None,
    typer.Option(
        "--redirect-uri",
        envvar="PINADS_REDIRECT_URI",
        help=(
            "Redirect URI registered on your Pinterest app (default with Pinterest: "
            "http://127.0.0.1:8085/callback; with the emulator: a random loopback port)."
        ),
    ),
]
RefreshToken = Annotated[
    str | None,
    typer.Option(
        "--refresh-token",
        envvar="PINADS_REFRESH_TOKEN",
        help="Import an existing refresh token instead of the browser flow.",
        show_default=False,
    ),
]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for the consent redirect.")
]


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    days = (value - datetime.now(UTC)).total_seconds() / 86400
    ago = f"in {days:.0f} d" if days >= 1 else ("expired" if days < 0 else "today")
    return f"{value:%Y-%m-%d %H:%M} ({ago})"


def _warning(authorizer: Authorizer) -> str:
    if authorizer.is_revoked:
        return f"[red]revoked[/]: `pinads auth reauthorize {escape(authorizer.label)}`"
    if authorizer.refresh_expires_within(REFRESH_WARNING, now=datetime.now(UTC)):
        return (
            "[yellow]refresh token expires within 7 days[/]: run `pinads auth test "
            f"{escape(authorizer.label)}` to renew it"
        )
    return "ok"


def _announce(url: str, opened: bool) -> None:
    verb = "A browser was opened at" if opened else "Open this URL in a browser"
    _out.print(f"{verb} to authorize pinads with Pinterest:")
    _out.print(url, markup=False)


def _flow(no_browser: bool, redirect_uri: str | None, timeout: float) -> CodeFlowOptions:
    def paste() -> str:
        return str(typer.prompt("Paste the full URL your browser was redirected to"))

    if not no_browser:
        _out.print("Waiting for Pinterest to redirect back to pinads (Ctrl+C to stop)...")
    return CodeFlowOptions(
        announce=_announce,
        redirect_uri=redirect_uri,
        paste=paste if no_browser else None,
        open_browser=not no_browser,
        timeout_seconds=timeout,
    )


def _scopes(text: str) -> tuple[str, ...]:
    scopes = tuple(s.strip() for s in text.replace(" ", ",").split(",") if s.strip())
    if not scopes:
        raise ConfigError("--scopes needs at least one scope, e.g. ads:read,user_accounts:read")
    return scopes


def _client_secret(value: str | None) -> str:
    if value:
        return value
    return str(typer.prompt("Client secret of your Pinterest app", hide_input=True))


def _summary(verb: str, authorizer: Authorizer) -> None:
    user = authorizer.pinterest_username or "unknown user"
    _out.print(
        f"{verb} authorizer [bold]{escape(authorizer.label)}[/] (id {authorizer.id}) for "
        f"{escape(user)}; scopes {', '.join(authorizer.scopes) or '-'}; refresh token expires "
        f"{_when(authorizer.refresh_expires_at)}"
    )


def _add(
    *,
    label: str | None,
    client_id: str | None,
    client_secret: str | None,
    api_url: str,
    scopes: str,
    no_browser: bool,
    redirect_uri: str | None,
    refresh_token: str | None,
    timeout: float,
    rate_tier: str,
) -> None:
    client_id = client_id or str(typer.prompt("Client id (app id) of your Pinterest app"))
    secret = _client_secret(client_secret)
    with AuthorizerService() as service:
        if refresh_token:
            authorizer = service.add_with_refresh_token(
                client_id=client_id,
                client_secret=secret,
                refresh_token=refresh_token,
                api_url=api_url,
                label=label,
                rate_tier=rate_tier,
            )
        else:
            authorizer = service.add_with_code_flow(
                client_id=client_id,
                client_secret=secret,
                flow=_flow(no_browser, redirect_uri, timeout),
                api_url=api_url,
                scopes=_scopes(scopes),
                label=label,
                rate_tier=rate_tier,
            )
    _summary("added", authorizer)


def _list_table(authorizers: list[Authorizer]) -> Table:
    table = Table(title="authorizers", title_justify="left")
    for column in ("id", "label", "user", "scopes", "access expires", "refresh expires", "status"):
        table.add_column(column, overflow="fold")
    for a in authorizers:
        table.add_row(
            str(a.id),
            escape(a.label),
            escape(a.pinterest_username or "-"),
            ", ".join(a.scopes),
            _when(a.access_expires_at),
            _when(a.refresh_expires_at),
            _warning(a),
        )
    return table


def _show(service: AuthorizerService, ref: str) -> None:
    a = service.get(ref)
    with service.db.engine.connect() as conn:
        users = sources_using_authorizer(conn, authorizer_id=a.id, label=a.label)
    rows = {
        "id": str(a.id),
        "label": a.label,
        "user": f"{a.pinterest_username or '-'} ({a.pinterest_user_id or '-'})",
        "api url": a.api_url,
        "client id": a.client_id,
        "scopes": ", ".join(a.scopes),
        "access expires": _when(a.access_expires_at),
        "refresh expires": _when(a.refresh_expires_at),
        "rate tier": a.rate_tier,
        "created": f"{a.created_at:%Y-%m-%d %H:%M}",
        "used by sources": ", ".join(users) or "-",
    }
    table = Table(show_header=False, title=f"authorizer {escape(a.label)}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(key, escape(value))
    table.add_row("status", _warning(a))
    _out.print(table)


def _accounts_table(rows: list[tuple[Authorizer, AdAccount]]) -> Table:
    table = Table(title="ad accounts", title_justify="left")
    for column in ("authorizer", "id", "name", "currency", "country", "roles", "analytics"):
        table.add_column(column, overflow="fold")
    for authorizer, account in rows:
        table.add_row(
            escape(authorizer.label),
            account.id,
            escape(account.name),
            account.currency or "-",
            account.country or "-",
            ", ".join(account.roles) or "-",
            "yes" if account.has_analytics_role else "[red]no: needs an analytics role[/]",
        )
    return table


def _register_auth(auth: typer.Typer) -> None:  # noqa: C901 - one small function per command
    @auth.command("add")
    def add(  # noqa: PLR0917 - Typer options
        label: Annotated[str | None, typer.Option("--label", help="A name for it.")] = None,
        client_id: Annotated[
            str | None,
            typer.Option("--client-id", envvar="PINADS_CLIENT_ID", help="Your Pinterest app's id."),
        ] = None,
        client_secret: Annotated[
            str | None,
            typer.Option(
                "--client-secret",
                envvar="PINADS_CLIENT_SECRET",
                help="Your app's secret (or env PINADS_CLIENT_SECRET; else a hidden prompt).",
                show_default=False,
            ),
        ] = None,
        api_url: Annotated[
            str, typer.Option("--api-url", envvar="PINADS_API_URL", help="API base URL.")
        ] = PRODUCTION_API_URL,
        scopes: Annotated[
            str, typer.Option("--scopes", help="Comma-separated OAuth scopes.")
        ] = "ads:read,user_accounts:read",
        no_browser: NoBrowser = False,
        redirect_uri: RedirectUri = None,
        refresh_token: RefreshToken = None,
        timeout: Timeout = 300.0,
        rate_tier: Annotated[
            str, typer.Option("--rate-tier", help="Your app's access tier: standard or trial.")
        ] = "standard",
    ) -> None:
        """Authorize pinads with your Pinterest app (browser consent) and save the tokens."""
        _add(
            label=label,
            client_id=client_id,
            client_secret=client_secret,
            api_url=api_url,
            scopes=scopes,
            no_browser=no_browser,
            redirect_uri=redirect_uri,
            refresh_token=refresh_token,
            timeout=timeout,
            rate_tier=rate_tier,
        )

    @auth.command("list")
    def list_() -> None:
        """List authorizers with their user, scopes and token expiry."""
        with AuthorizerService() as service:
            authorizers = service.list()
        if not authorizers:
            _out.print("no authorizers yet: add one with `pinads auth add`")
            return
        _out.print(_list_table(authorizers))

    @auth.command("show")
    def show(ref: LabelArg) -> None:
        """Show one authorizer and the sources that use it."""
        with AuthorizerService() as service:
            _show(service, ref)

    @auth.command("rename")
    def rename(
        ref: LabelArg, new_label: Annotated[str, typer.Argument(help="The new label.")]
    ) -> None:
        """Give an authorizer a new label."""
        with AuthorizerService() as service:
            renamed = service.rename(ref, new_label)
        _out.print(f"renamed authorizer {renamed.id} to [bold]{escape(renamed.label)}[/]")

    @auth.command("test")
    def test(ref: LabelArg) -> None:
        """Call Pinterest with the authorizer and say what works."""
        with AuthorizerService() as service:
            report = service.test(ref)
        table = Table(title=f"authorizer {escape(report.authorizer.label)}", title_justify="left")
        for column in ("check", "result", "detail"):
            table.add_column(column, overflow="fold")
        for check in report.checks:
            mark = "[green]ok[/]" if check.ok else "[red]failed[/]"
            table.add_row(check.name, mark, escape(check.detail))
        _out.print(table)
        if not report.ok:
            raise typer.Exit(1)

    @auth.command("reauthorize")
    def reauthorize(  # noqa: PLR0917 - Typer options
        ref: LabelArg,
        no_browser: NoBrowser = False,
        redirect_uri: RedirectUri = None,
        refresh_token: RefreshToken = None,
        client_secret: Annotated[
            str | None,
            typer.Option("--client-secret", help="A new client secret, if it changed."),
        ] = None,
        scopes: Annotated[
            str | None, typer.Option("--scopes", help="New scopes (default: the same).")
        ] = None,
        timeout: Timeout = 300.0,
    ) -> None:
        """Get new tokens for an authorizer (same label and id; sources keep working)."""
        with AuthorizerService() as service:
            authorizer = service.reauthorize(
                ref,
                flow=None if refresh_token else _flow(no_browser, redirect_uri, timeout),
                refresh_token=refresh_token,
                client_secret=client_secret,
                scopes=_scopes(scopes) if scopes else None,
            )
        _summary("re-authorized", authorizer)

    @auth.command("revoke")
    def revoke(
        ref: LabelArg,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="No question.")] = False,
    ) -> None:
        """Revoke the tokens at Pinterest and forget them (the authorizer stays, revoked)."""
        if not yes:
            typer.confirm(f"Revoke the tokens of authorizer {ref}?", abort=True)
        with AuthorizerService() as service:
            result = service.revoke(ref)
        _out.print(
            f"authorizer [bold]{escape(result.authorizer.label)}[/]: {escape(result.detail)}"
        )

    @auth.command("delete")
    def delete(
        ref: LabelArg,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="No question.")] = False,
    ) -> None:
        """Delete an authorizer (refused while a source uses it)."""
        if not yes:
            typer.confirm(f"Delete authorizer {ref}?", abort=True)
        with AuthorizerService() as service:
            authorizer = service.get(ref)
            service.delete(authorizer)
        _out.print(f"deleted authorizer [bold]{escape(authorizer.label)}[/] (id {authorizer.id})")


def _register_accounts(accounts: typer.Typer) -> None:
    @accounts.command("list")
    def list_(
        authorizer: Annotated[
            str | None, typer.Option("--authorizer", "-a", help="Label or id (default: all).")
        ] = None,
    ) -> None:
        """Ad accounts each authorizer's user can see, with the user's roles."""
        rows: list[tuple[Authorizer, AdAccount]] = []
        with AuthorizerService() as service:
            chosen = [service.get(authorizer)] if authorizer else service.list()
            if not chosen:
                raise ConfigError("no authorizers yet: add one with `pinads auth add`")
            for item in chosen:
                if item.is_revoked and authorizer is None:
                    _out.print(f"skipped revoked authorizer {escape(item.label)}")
                    continue
                rows.extend((item, account) for account in service.accounts(item))
        _out.print(_accounts_table(rows))
        missing = sum(not account.has_analytics_role for _, account in rows)
        if missing:
            _out.print(
                f"{missing} account(s) lack an analytics role (OWNER, ADMIN, ANALYST or "
                "CAMPAIGN_MANAGER): sources cannot read their analytics"
            )


def register(app: typer.Typer) -> None:
    auth = typer.Typer(help="Authorize Pinterest and manage authorizers.", no_args_is_help=True)
    app.add_typer(auth, name="auth")
    _register_auth(auth)
    accounts = typer.Typer(help="Ad accounts visible to your authorizers.", no_args_is_help=True)
    app.add_typer(accounts, name="accounts")
    _register_accounts(accounts)
