"""Pinterest OAuth 2.0: consent URL, code exchange, refresh (rotating) and revoke.

The token endpoint takes a form body and HTTP Basic client authentication. Apps created before
2025-09-25 must ask for the continuous refresh token with `continuous_refresh=true`; newer apps
get it anyway, so pinads sends it by default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

import httpx
import orjson
from pydantic import SecretStr

from pinads.api.errors import error_from_response, parse_error_body, safe_url, transport_error
from pinads.api.http import plain_client
from pinads.api.models import (
    OAuthApp,
    TokenSet,
    consent_base_url_for,
    token_set_from_response,
    utc_now,
)
from pinads.api.retry import Retrier, RetryPolicy, Sleep
from pinads.errors import AccessDeniedError, AuthError, PinadsError, RetriableApiError

__all__ = [
    "consent_url",
    "exchange_code",
    "post_token_form",
    "refresh_tokens",
    "revoke_token",
]

log = logging.getLogger(__name__)

# "import": a refresh token the user brought (`--refresh-token`), not one pinads stored.
Grant = Literal["authorization_code", "refresh_token", "import", "revoke"]
_REAUTHORIZE = "re-authorize this authorizer"


def consent_url(
    app: OAuthApp,
    *,
    consent_base_url: str | None = None,
    redirect_uri: str,
    scopes: tuple[str, ...] | list[str],
    state: str,
) -> str:
    """The URL of Pinterest's consent page; scopes are comma-separated as Pinterest expects.
    `consent_base_url` defaults to the one that belongs to `app.api_url`."""
    base = consent_base_url or consent_base_url_for(app.api_url)
    query = urlencode(
        {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(scopes),
            "state": state,
        }
    )
    return f"{base}{'&' if '?' in base else '?'}{query}"


# What a refusal (other than of the app's credentials) means, per grant; `{client}` is filled.
_REFUSED: dict[Grant, str] = {
    "refresh_token": f"the refresh token was refused (invalid, expired or revoked): {_REAUTHORIZE}",
    "authorization_code": (
        "the authorization code was refused (expired, already used, or the redirect URI "
        "differs from the registered one): run the authorization again"
    ),
    # Pinterest answers a bad secret and a dead refresh token alike (401 code 2), so an imported
    # token's refusal names both causes, whatever the status.
    "import": (
        "Pinterest refused the refresh token for {client}: it is expired, revoked or already "
        "used (each refresh token works once), or the client id and secret are not those of "
        "the app that issued it; nothing was stored: get a new refresh token, or authorize in "
        "the browser (leave out --refresh-token)"
    ),
    "revoke": "Pinterest refused to revoke the token for {client}",
}
_BAD_CREDENTIALS: dict[Grant, str] = {
    "refresh_token": (
        f"Pinterest refused to refresh the token for {{client}}: {_REAUTHORIZE} (and check "
        "the app's client id and secret if they changed)"
    ),
}
_BAD_CREDENTIALS_DEFAULT = (
    "Pinterest rejected the app credentials for {client}: check the client id and client secret"
)


def _client_error(app: OAuthApp, grant: Grant, response: httpx.Response) -> PinadsError:
    """Token-endpoint failures in words that say what to do; never the secret or the token."""
    body = parse_error_body(response.content)
    details = f"HTTP {response.status_code}" + (f", code {body.code}" if body.code else "")
    rid = response.headers.get("x-pinterest-rid")
    details += f", request id {rid}" if rid else ""
    said = f"Pinterest said: {body.message} ({details})"
    client = f"client id {app.client_id}"
    if response.status_code == 403:
        return AccessDeniedError(f"Pinterest did not allow {client} to do this; {said}")
    if grant != "import" and (response.status_code == 401 or "invalid_client" in response.text):
        text = _BAD_CREDENTIALS.get(grant, _BAD_CREDENTIALS_DEFAULT)
    else:
        text = _REFUSED[grant]
    return AuthError(f"{text.format(client=client)}; {said}")


def _send_form(
    http: httpx.Client, app: OAuthApp, path: str, form: dict[str, str], grant: Grant
) -> httpx.Response:
    url = f"{app.api_url}{path}"
    auth = httpx.BasicAuth(app.client_id, app.client_secret.get_secret_value())
    try:
        response = http.post(url, data=form, auth=auth)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise transport_error(
            f"could not reach Pinterest's token endpoint {safe_url(url)} "
            f"({type(exc).__name__}): check the network and the authorizer's API URL",
            exc,
        ) from exc
    log.debug("POST %s -> %s", safe_url(url), response.status_code)
    if response.status_code == 429 or response.status_code >= 500:
        raise error_from_response(response)
    if response.is_error:
        raise _client_error(app, grant, response)
    return response


def post_token_form(
    http: httpx.Client,
    app: OAuthApp,
    form: dict[str, str],
    *,
    grant: Grant,
    now: datetime,
    previous_refresh_token: SecretStr | None = None,
) -> TokenSet:
    """POST `form` to `/oauth/token` once and turn the answer into a `TokenSet`."""
    response = _send_form(http, app, "/oauth/token", form, grant)
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise RetriableApiError(
            "Pinterest's token answer was not JSON (truncated?): retry",
            status=response.status_code,
            request_id=response.headers.get("x-pinterest-rid"),
        ) from exc
    return token_set_from_response(payload, now=now, previous_refresh_token=previous_refresh_token)


def _continuous(form: dict[str, str], continuous_refresh: bool) -> dict[str, str]:
    return {**form, "continuous_refresh": "true"} if continuous_refresh else form


def exchange_code(
    app: OAuthApp,
    *,
    code: str,
    redirect_uri: str,
    transport: httpx.BaseTransport | None = None,
    continuous_refresh: bool = True,
    clock: Callable[[], datetime] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
) -> TokenSet:
    """Exchange an authorization code (from the consent redirect) for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    with plain_client(transport) as http:
        return Retrier(retry, sleep=sleep).call(
            lambda: post_token_form(
                http,
                app,
                _continuous(form, continuous_refresh),
                grant="authorization_code",
                now=(clock or utc_now)(),
            )
        )


def refresh_tokens(
    app: OAuthApp,
    *,
    refresh_token: SecretStr | str,
    transport: httpx.BaseTransport | None = None,
    continuous_refresh: bool = True,
    clock: Callable[[], datetime] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    imported: bool = False,
) -> TokenSet:
    """Trade a refresh token for a new token set. Pinterest rotates the refresh token: the
    caller must persist the result before using it. `imported`: the user brought the token
    (`--refresh-token`), so a refusal is explained as such rather than as a stored one."""
    secret = refresh_token if isinstance(refresh_token, SecretStr) else SecretStr(refresh_token)
    form = {"grant_type": "refresh_token", "refresh_token": secret.get_secret_value()}
    with plain_client(transport) as http:
        return Retrier(retry, sleep=sleep).call(
            lambda: post_token_form(
                http,
                app,
                _continuous(form, continuous_refresh),
                grant="import" if imported else "refresh_token",
                now=(clock or utc_now)(),
                previous_refresh_token=secret,
            )
        )


def revoke_token(
    app: OAuthApp,
    *,
    token: SecretStr | str,
    token_type_hint: Literal["access_token", "refresh_token"],
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
) -> None:
    """Revoke an access or refresh token at Pinterest."""
    value = token.get_secret_value() if isinstance(token, SecretStr) else token
    form = {"token": value, "token_type_hint": token_type_hint}
    with plain_client(transport) as http:
        Retrier(retry, sleep=sleep).call(
            lambda: _send_form(http, app, "/oauth/token/revoke", form, "revoke")
        )
