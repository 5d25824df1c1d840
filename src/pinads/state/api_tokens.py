"""API tokens in the control DB: only a SHA-256 of each token is stored (the tokens are random
32-byte secrets, so a plain digest is enough to look them up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.schema import API_TOKENS

__all__ = ["ApiTokenInfo", "ApiTokenRepository"]


@dataclass(frozen=True, slots=True)
class ApiTokenInfo:
    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenRepository:
    """All access to the `api_tokens` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(self, *, name: str, token_sha256: str, username: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                API_TOKENS.insert().values(
                    name=name, token_sha256=token_sha256, username=username, created_at=utc_now()
                )
            )

    def use(self, token_sha256: str) -> str | None:
        """The user of the token with this digest (its last use recorded), or None."""
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(API_TOKENS.c.id, API_TOKENS.c.username).where(
                    API_TOKENS.c.token_sha256 == token_sha256
                )
            ).first()
            if row is None:
                return None
            conn.execute(
                API_TOKENS.update().where(API_TOKENS.c.id == row.id).values(last_used_at=utc_now())
            )
            return str(row.username)

    def all(self) -> list[ApiTokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(API_TOKENS).order_by(API_TOKENS.c.id)).all()
        return [ApiTokenInfo(r.id, r.name, r.username, r.created_at, r.last_used_at) for r in rows]

    def delete(self, token_id: int) -> bool:
        """Delete the token; False when there is none with this id."""
        with self._engine.begin() as conn:
            deleted = conn.execute(API_TOKENS.delete().where(API_TOKENS.c.id == token_id))
        return bool(deleted.rowcount)
