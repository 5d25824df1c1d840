"""Typed values at the client's boundary: OAuth app, token set, token sink, base URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from pinads.errors import ExtractError

__all__ = [
    "PRODUCTION_API_URL",
    "PRODUCTION_CONSENT_URL",
    "SANDBOX_API_URL",
    "OAuthApp",
    "TokenSet",
    "TokenSink",
    "consent_base_url_for",
    "token_set_from_response",
    "utc_now",
]

PRODUCTION_API_URL = "https://api.pinterest.com/v5"
SANDBOX_API_URL = "https://api-sandbox.pinterest.com/v5"
# Pinterest's consent page lives on www.pinterest.com for both production and sandbox apps.
PRODUCTION_CONSENT_URL = "https://www.pinterest.com/oauth/"
_PINTEREST_API_HOSTS = frozenset({"api.pinterest.com", "api-sandbox.pinterest.com"})


def utc_now() -> datetime:
    """The default clock: timezone-aware UTC now."""
    return datetime.now(UTC)


class OAuthApp(BaseModel):
    """The user's own Pinterest app (client id + secret) and the API base URL it talks to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1, description="The Pinterest app's client id (app id).")
    client_secret: SecretStr = Field(description="The Pinterest app's client secret.")
    api_url: str = Field(
        default=PRODUCTION_API_URL,
        description="API base URL: production, sandbox, or an emulator's `/v5` URL.",
    )

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"api_url must be an http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("api_url must not carry a query string or fragment")
        return value.strip().rstrip("/")


class TokenSet(BaseModel):
    """An access token and the (rotating) refresh token that renews it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    access_expires_at: datetime = Field(description="When the access token expires (UTC).")
    refresh_token: SecretStr
    refresh_expires_at: datetime | None = Field(
        default=None, description="When the refresh token expires (UTC), when Pinterest says."
    )
    scopes: tuple[str, ...] = ()

    @field_validator("access_expires_at", "refresh_expires_at")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # Naive datetimes are taken as UTC: Pinterest reports epoch seconds, which are UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def access_expires_within(self, margin: timedelta, *, now: datetime) -> bool:
        """True when the access token is expired or expires within `margin` of `now`."""
        return self.access_expires_at - margin <= now

    def refresh_expired(self, *, now: datetime) -> bool:
        """True when Pinterest told us the refresh token has expired."""
        return self.refresh_expires_at is not None and self.refresh_expires_at <= now


class TokenSink(Protocol):
    """Receives every new token set. `save` must be durable before it returns, because the
    previous refresh token stops working as soon as Pinterest rotated it."""

    def save(self, tokens: TokenSet) -> None: ...


def consent_base_url_for(api_url: str) -> str:
    """The consent page for an API base URL: Pinterest's own for its hosts, else `{base}/oauth/`
    where `base` is the API URL without its `/v5` suffix (the emulator's layout)."""
    parts = urlsplit(api_url)
    if parts.hostname in _PINTEREST_API_HOSTS:
        return PRODUCTION_CONSENT_URL
    path = parts.path.rstrip("/")
    if path.endswith("/v5"):
        path = path[: -len("/v5")]
    return f"{parts.scheme}://{parts.netloc}{path}/oauth/"


def _scopes_from(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    # Pinterest documents `scope` as a string; both comma- and space-separated forms are seen.
    return tuple(s for s in value.replace(",", " ").split() if s)


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def token_set_from_response(
    payload: Any, *, now: datetime, previous_refresh_token: SecretStr | None = None
) -> TokenSet:
    """Build a `TokenSet` from Pinterest's `/oauth/token` answer.

    A refresh answer normally carries a rotated refresh token; if it does not, the previous one
    stays valid and is kept.
    """
    if not isinstance(payload, dict):
        raise ExtractError("Pinterest's token answer is not a JSON object: retry later")
    access = payload.get("access_token")
    expires_in = payload.get("expires_in")
    if not isinstance(access, str) or not access or not isinstance(expires_in, int | float):
        raise ExtractError(
            "Pinterest's token answer lacks access_token/expires_in: retry later or re-authorize"
        )
    refresh: SecretStr | None = previous_refresh_token
    if isinstance(payload.get("refresh_token"), str) and payload["refresh_token"]:
        refresh = SecretStr(payload["refresh_token"])
    if refresh is None:
        raise ExtractError("Pinterest's token answer has no refresh token: re-authorize")
    refresh_expires = _epoch(payload.get("refresh_token_expires_at"))
    if refresh_expires is None and isinstance(payload.get("refresh_token_expires_in"), int):
        refresh_expires = now + timedelta(seconds=payload["refresh_token_expires_in"])
    return TokenSet(
        access_token=SecretStr(access),
        access_expires_at=now + timedelta(seconds=float(expires_in)),
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
        scopes=_scopes_from(payload.get("scope")),
    )
