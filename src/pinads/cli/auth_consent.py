"""The terminal side of the consent step for `pinads auth add` and `pinads auth reauthorize`:
their shared options, the consent URL shown to the user, the paste prompt, the secret prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from pinads.auth import CodeFlowOptions
from pinads.cli.auth_views import out
from pinads.errors import ConfigError

__all__ = [
    "NoBrowser",
    "RedirectUri",
    "RefreshToken",
    "Timeout",
    "client_secret",
    "flow_options",
    "scopes",
]

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


def _announcer(paste_mode: bool) -> Callable[[str, bool], None]:
    def announce(url: str, opened: bool) -> None:
        if opened:
            out.print("Opened your browser at this URL to authorize pinads with Pinterest:")
        else:
            out.print("Open this URL in a browser to authorize pinads with Pinterest:")
        out.print(url, markup=False)
        if not paste_mode:
            out.print("Waiting for Pinterest to redirect back to pinads (Ctrl+C to stop)...")

    return announce


def _paste() -> str:
    return str(
        typer.prompt(
            "After approving, paste the full URL your browser was sent to (the page itself "
            "may not load: copy the address bar)"
        )
    )


def flow_options(no_browser: bool, redirect_uri: str | None, timeout: float) -> CodeFlowOptions:
    """Loopback callback server (a browser opened when possible), or paste mode."""
    return CodeFlowOptions(
        announce=_announcer(paste_mode=no_browser),
        redirect_uri=redirect_uri,
        paste=_paste if no_browser else None,
        open_browser=not no_browser,
        timeout_seconds=timeout,
    )


def scopes(text: str) -> tuple[str, ...]:
    """`--scopes` as a tuple: comma- or space-separated."""
    parsed = tuple(s.strip() for s in text.replace(" ", ",").split(",") if s.strip())
    if not parsed:
        raise ConfigError("--scopes needs at least one scope, e.g. ads:read,user_accounts:read")
    return parsed


def client_secret(value: str | None) -> str:
    """The option's (or env's) value, else a prompt that does not echo."""
    if value:
        return value
    return str(typer.prompt("Client secret of your Pinterest app", hide_input=True))
