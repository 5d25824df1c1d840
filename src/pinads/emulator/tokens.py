"""OAuth grants of the emulator: authorization codes, access and refresh tokens.

Times come from the emulator clock (`now` arguments), so moving the clock expires tokens
without sleeping. Refresh tokens rotate: redeeming one retires it and issues a new one with a
fresh lifetime (Pinterest's continuous refresh). Thread-safe: uvicorn serves from one thread
but tests call the store directly from others.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

__all__ = ["CODE_LIFETIME", "Grant", "IssuedTokens", "OAuthRefusalError", "TokenInfo", "TokenStore"]

CODE_LIFETIME = timedelta(minutes=10)


class OAuthRefusalError(Exception):
    """A token request that Pinterest would refuse: HTTP status, code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Who a bearer token acts for."""

    user_id: str
    app_id: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Grant:
    info: TokenInfo
    expires_at: datetime
    family: str  # the refresh token lineage this grant belongs to (revoking one revokes all)
    redirect_uri: str = ""


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    scopes: frozenset[str]


def _invalid_code() -> OAuthRefusalError:
    return OAuthRefusalError(400, 1, "Invalid authorization code: it is unknown, used or expired.")


class TokenStore:
    """All grants of one emulator instance."""

    def __init__(self, *, access_lifetime: timedelta, refresh_lifetime: timedelta) -> None:
        self._access_lifetime = access_lifetime
        self._refresh_lifetime = refresh_lifetime
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    def issue_code(self, info: TokenInfo, *, redirect_uri: str, now: datetime) -> str:
        code = secrets.token_urlsafe(24)
        grant = Grant(info, now + CODE_LIFETIME, family="", redirect_uri=redirect_uri)
        with self._lock:
            self._codes[code] = grant
        return code

    def redeem_code(
        self, code: str, *, app_id: str, redirect_uri: str, now: datetime
    ) -> IssuedTokens:
        """Codes are single-use: a second attempt fails even if the first one failed."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= now or grant.info.app_id != app_id:
            raise _invalid_code()
        if grant.redirect_uri != redirect_uri:
            raise OAuthRefusalError(400, 1, "redirect_uri does not match the one used at consent.")
        return self.mint(grant.info, now=now)

    def mint(self, info: TokenInfo, *, now: datetime, family: str | None = None) -> IssuedTokens:
        access = "pina_" + secrets.token_urlsafe(32)
        refresh = "pinr_" + secrets.token_urlsafe(32)
        lineage = family or refresh
        access_grant = Grant(info, now + self._access_lifetime, family=lineage)
        refresh_grant = Grant(info, now + self._refresh_lifetime, family=lineage)
        with self._lock:
            self._access[access] = access_grant
            self._refresh[refresh] = refresh_grant
        return IssuedTokens(
            access, access_grant.expires_at, refresh, refresh_grant.expires_at, info.scopes
        )

    def refresh(
        self, token: str, *, app_id: str, now: datetime, scopes: frozenset[str] | None = None
    ) -> IssuedTokens:
        """Rotate: the presented refresh token stops working, a new pair is issued."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or grant.expires_at <= now or grant.info.app_id != app_id:
                raise OAuthRefusalError(401, 2, "Authentication failed.")
            del self._refresh[token]
        info = grant.info
        if scopes:
            if not scopes <= info.scopes:
                raise OAuthRefusalError(400, 1, "Requested scopes exceed the scopes of the grant.")
            info = replace(info, scopes=scopes)
        return self.mint(info, now=now, family=grant.family)

    def lookup(self, access_token: str, *, now: datetime) -> TokenInfo | None:
        """The token's identity, or None when it is unknown, revoked or expired."""
        grant = self._access.get(access_token)
        if grant is None or grant.expires_at <= now:
            return None
        return grant.info

    def revoke(self, token: str) -> bool:
        """Revoke a token and its whole lineage (access and refresh). False if unknown."""
        with self._lock:
            grant = self._access.get(token) or self._refresh.get(token)
            if grant is None:
                return False
            family = grant.family
            for table in (self._access, self._refresh):
                for key in [k for k, g in table.items() if g.family == family]:
                    del table[key]
        return True

    def revoke_all(self) -> None:
        """Forget every token and code (fault injection: "token revoked mid-run")."""
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()
