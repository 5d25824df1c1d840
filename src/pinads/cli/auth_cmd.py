"""`pinads auth add|list|show|rename|test|reauthorize|revoke|delete`.

Thin commands over `pinads.auth.AuthorizerService`; what they print is in `auth_views`, the
consent step's terminal side in `auth_consent`. Tokens and client secrets are never printed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from pinads.api import PRODUCTION_API_URL
from pinads.auth import AuthorizerService
from pinads.cli import auth_consent as consent
from pinads.cli.audit_trail import record_cli
from pinads.cli.auth_consent import NoBrowser, RedirectUri, RefreshToken, Timeout
from pinads.cli.auth_views import authorizer_table, authorizers_table, checks_table, out, summary
from pinads.runner.alerts import watch_authorizers
from pinads.settings import load_settings

__all__ = ["register"]

LabelArg = Annotated[str, typer.Argument(help="The authorizer's label or id.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="No question.")]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", envvar="PINADS_CLIENT_ID", help="Your Pinterest app's id."),
]
ClientSecret = Annotated[
    str | None,
    typer.Option(
        "--client-secret",
        envvar="PINADS_CLIENT_SECRET",
        help="Your app's secret (or env PINADS_CLIENT_SECRET; else a hidden prompt).",
        show_default=False,
    ),
]
ApiUrl = Annotated[str, typer.Option("--api-url", envvar="PINADS_API_URL", help="API base URL.")]
Scopes = Annotated[str, typer.Option("--scopes", help="Comma-separated OAuth scopes.")]
RateTier = Annotated[
    str, typer.Option("--rate-tier", help="Your app's access tier: standard or trial.")
]


def add(  # noqa: PLR0917 - one parameter per Typer option
    label: Annotated[str | None, typer.Option("--label", help="A name for it.")] = None,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    api_url: ApiUrl = PRODUCTION_API_URL,
    scopes: Scopes = "ads:read,user_accounts:read",
    no_browser: NoBrowser = False,
    redirect_uri: RedirectUri = None,
    refresh_token: RefreshToken = None,
    timeout: Timeout = 300.0,
    rate_tier: RateTier = "standard",
) -> None:
    """Authorize pinads with your Pinterest app (browser consent) and save the tokens."""
    client_id = client_id or str(typer.prompt("Client id (app id) of your Pinterest app"))
    secret = consent.client_secret(client_secret)
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
                flow=consent.flow_options(no_browser, redirect_uri, timeout),
                api_url=api_url,
                scopes=consent.scopes(scopes),
                label=label,
                rate_tier=rate_tier,
            )
    record_cli("authorizer.add", authorizer.label, id=authorizer.id)
    out.print(summary("added", authorizer))


def list_() -> None:
    """List authorizers with their user, scopes and token expiry."""
    with AuthorizerService() as service:
        authorizers = service.list()
    if not authorizers:
        out.print("no authorizers yet: add one with `pinads auth add`")
        return
    out.print(authorizers_table(authorizers))


def show(ref: LabelArg) -> None:
    """Show one authorizer and the sources that use it."""
    with AuthorizerService() as service:
        authorizer = service.get(ref)
        used_by = service.used_by(authorizer)
    out.print(authorizer_table(authorizer, used_by))


def rename(ref: LabelArg, new_label: Annotated[str, typer.Argument(help="The new label.")]) -> None:
    """Give an authorizer a new label (sources that name the old one follow)."""
    with AuthorizerService() as service:
        old = service.get(ref).label
        renamed = service.rename(ref, new_label)
    record_cli("authorizer.rename", renamed.label, **{"from": old})
    out.print(f"renamed authorizer {renamed.id} to [bold]{escape(renamed.label)}[/]")


def set_tier(
    ref: LabelArg,
    tier: Annotated[str, typer.Argument(help="standard or trial: your app's access tier.")],
) -> None:
    """Set the app's access tier, which sets how fast pinads may call Pinterest."""
    with AuthorizerService() as service:
        changed = service.set_rate_tier(ref, tier)
    record_cli("authorizer.tier", changed.label, tier=changed.rate_tier)
    out.print(
        f"authorizer [bold]{escape(changed.label)}[/] now uses the {changed.rate_tier} tier's "
        "rate limits (from its next run)"
    )


def check(ref: LabelArg) -> None:
    """Call Pinterest with the authorizer and say what works."""
    with AuthorizerService() as service:
        report = service.test(ref)
    out.print(checks_table(report))
    if not report.ok:
        raise typer.Exit(1)


def reauthorize(  # noqa: PLR0917 - one parameter per Typer option
    ref: LabelArg,
    no_browser: NoBrowser = False,
    redirect_uri: RedirectUri = None,
    refresh_token: RefreshToken = None,
    client_secret: Annotated[
        str | None, typer.Option("--client-secret", help="A new client secret, if it changed.")
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
            flow=None if refresh_token else consent.flow_options(no_browser, redirect_uri, timeout),
            refresh_token=refresh_token,
            client_secret=client_secret,
            scopes=consent.scopes(scopes) if scopes else None,
        )
    record_cli("authorizer.reauthorize", authorizer.label)
    out.print(summary("re-authorized", authorizer))


def revoke(ref: LabelArg, yes: Yes = False) -> None:
    """Revoke the tokens at Pinterest and forget them (the authorizer stays, revoked)."""
    if not yes:
        typer.confirm(f"Revoke the tokens of authorizer {ref}?", abort=True)
    with AuthorizerService() as service:
        result = service.revoke(ref)
    record_cli(
        "authorizer.revoke", result.authorizer.label, at_pinterest=result.revoked_at_pinterest
    )
    watch_authorizers(load_settings())  # the revocation's alert, to the channels that want it
    out.print(f"authorizer [bold]{escape(result.authorizer.label)}[/]: {escape(result.detail)}")


def delete(ref: LabelArg, yes: Yes = False) -> None:
    """Delete an authorizer (refused while a source uses it)."""
    if not yes:
        typer.confirm(f"Delete authorizer {ref}?", abort=True)
    with AuthorizerService() as service:
        authorizer = service.get(ref)
        service.delete(authorizer)
    record_cli("authorizer.delete", authorizer.label)
    out.print(f"deleted authorizer [bold]{escape(authorizer.label)}[/] (id {authorizer.id})")


def register(app: typer.Typer) -> None:
    auth = typer.Typer(help="Authorize Pinterest and manage authorizers.", no_args_is_help=True)
    app.add_typer(auth, name="auth")
    for name, command in (
        ("add", add),
        ("list", list_),
        ("show", show),
        ("rename", rename),
        ("set-tier", set_tier),
        ("test", check),
        ("reauthorize", reauthorize),
        ("revoke", revoke),
        ("delete", delete),
    ):
        auth.command(name)(command)
