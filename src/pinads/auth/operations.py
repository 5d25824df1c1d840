"""API calls the authorizer service makes: who the token belongs to, what works (`test`),
and revocation at Pinterest."""

from __future__ import annotations

import httpx

from pinads.api import OAuthApp, PinterestClient, TokenSet, revoke_token
from pinads.auth.accounts import AdAccount
from pinads.auth.models import TestCheck
from pinads.errors import AccessDeniedError, ApiError, AuthError, ExtractError, PinadsError

__all__ = ["identify", "revoke_at_pinterest", "run_checks"]

_READ_SCOPE = "ads:read"


class _CaptureSink:
    """Keeps the newest tokens in memory until the authorizer row exists."""

    def __init__(self) -> None:
        self.tokens: TokenSet | None = None

    def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens


def identify(
    app: OAuthApp, tokens: TokenSet, *, transport: httpx.BaseTransport | None
) -> tuple[str | None, str | None, TokenSet]:
    """(user id, username, newest tokens); the user is unknown (None) without the
    `user_accounts:read` scope."""
    with PinterestClient(app, tokens, _CaptureSink(), transport=transport) as client:
        try:
            user = client.user_account()
        except AccessDeniedError:
            return None, None, client.tokens
        user_id = user.get("id")
        username = user.get("username")
        return (
            str(user_id) if user_id is not None else None,
            str(username) if username is not None else None,
            client.tokens,
        )


def _check_user(client: PinterestClient) -> TestCheck:
    try:
        user = client.user_account()
    except (AccessDeniedError, ApiError, ExtractError) as exc:
        return TestCheck(name="user account", ok=False, detail=exc.message)
    return TestCheck(
        name="user account",
        ok=True,
        detail=f"signed in as {user.get('username')} ({user.get('id')})",
    )


def _check_accounts(client: PinterestClient) -> TestCheck:
    try:
        accounts = [AdAccount.from_api(item) for item in client.ad_accounts()]
    except (AccessDeniedError, ApiError, ExtractError) as exc:
        return TestCheck(name="ad accounts", ok=False, detail=exc.message)
    usable = sum(a.has_analytics_role for a in accounts)
    return TestCheck(
        name="ad accounts",
        ok=bool(accounts),
        detail=(
            f"{len(accounts)} ad account(s), {usable} with an analytics role"
            if accounts
            else "no ad account is visible to this user: ask an account owner to share one"
        ),
    )


def run_checks(client: PinterestClient, *, scopes: tuple[str, ...]) -> tuple[TestCheck, ...]:
    """Every check runs; an AuthError (nothing can work) propagates."""
    scope_check = TestCheck(
        name="scopes",
        ok=_READ_SCOPE in scopes,
        detail=(
            ", ".join(scopes)
            if _READ_SCOPE in scopes
            else f"{', '.join(scopes) or 'none'}; ads data needs {_READ_SCOPE}: re-authorize "
            "with --scopes ads:read,user_accounts:read"
        ),
    )
    return (_check_user(client), _check_accounts(client), scope_check)


def revoke_at_pinterest(
    app: OAuthApp, tokens: TokenSet, *, transport: httpx.BaseTransport | None
) -> tuple[bool, str]:
    """Revoke the refresh and the access token; (confirmed, what happened)."""
    try:
        revoke_token(
            app,
            token=tokens.refresh_token,
            token_type_hint="refresh_token",  # noqa: S106 - a hint name, not a secret
            transport=transport,
        )
        revoke_token(
            app,
            token=tokens.access_token,
            token_type_hint="access_token",  # noqa: S106 - a hint name, not a secret
            transport=transport,
        )
    except (AuthError, AccessDeniedError, ApiError) as exc:
        return False, (
            f"Pinterest did not confirm the revocation ({exc.message}); the tokens were "
            "forgotten here — also remove the app's access in your Pinterest settings"
        )
    except PinadsError as exc:
        return False, f"the revocation could not be sent ({exc.message}); tokens forgotten here"
    return True, "revoked at Pinterest and forgotten here"
