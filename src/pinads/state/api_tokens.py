"""API tokens in the control DB: only a SHA-256 of each token is stored (the tokens are random
32-byte secrets, so a plain digest is enough to look them up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.schema import API_TOKENS

__all__ = ["ApiTokenInfo", "ApiTokenRepository", "TokenUse"]


@dataclass(frozen=True, slots=True)
class ApiTokenInfo:
    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None
    role: str | None = None  # None: its user's role
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenUse:
    """Who a valid token acts for, and with which role (None: the user's)."""

    username: str
    role: str | None


class ApiTokenRepository:
    """All access to the `api_tokens` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(
        self,
        *,
        name: str,
        token_sha256: str,
        username: str,
        role: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                API_TOKENS.insert().values(
                    name=name,
                    token_sha256=token_sha256,
                    username=username,
                    created_at=utc_now(),
                    role=role,
                    expires_at=expires_at,
                )
            )

    def use(self, token_sha256: str, *, now: datetime | None = None) -> TokenUse | None:
        """The user and role of the token with this digest (its last use recorded), or None
        when there is none or it expired."""
        now = now or utc_now()
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(
                    API_TOKENS.c.id,
                    API_TOKENS.c.username,
                    API_TOKENS.c.role,
                    API_TOKENS.c.expires_at,
                ).where(API_TOKENS.c.token_sha256 == token_sha256)
            ).first()
            if row is None or (row.expires_at is not None and row.expires_at <= now):
                return None
            conn.execute(
                API_TOKENS.update().where(API_TOKENS.c.id == row.id).values(last_used_at=now)
            )
            return TokenUse(str(row.username), row.role)

    def all(self) -> list[ApiTokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(API_TOKENS).order_by(API_TOKENS.c.id)).all()
        return [
            ApiTokenInfo(
                r.id, r.name, r.username, r.created_at, r.last_used_at, r.role, r.expires_at
            )
            for r in rows
        ]

    def delete(self, token_id: int) -> bool:
        """Delete the token; False when there is none with this id."""
        with self._engine.begin() as conn:
            deleted = conn.execute(API_TOKENS.delete().where(API_TOKENS.c.id == token_id))
        return bool(deleted.rowcount)
