"""Server-side web sessions: the cookie carries a random id, the control DB its SHA-256.

A session ends at logout, at a password change of its user (every session of that user),
after `idle` without a request, and `lifetime` after its login however much it is used (the
web's `WebPolicy` sets both). An expired session is refused and deleted when it is presented;
the rest are deleted at every login.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pinads.state.schema import WEB_SESSIONS

__all__ = [
    "ActiveSession",
    "Clock",
    "WebSessionRepository",
    "revoke_user_sessions",
    "session_key",
]

Clock = Callable[[], datetime]
# last_seen_at is written at most this often: one write per request would be wasted work.
_TOUCH_EVERY = timedelta(seconds=60)
_MAX_ID_CHARS = 100


def session_key(session_id: str) -> str:
    """What the control DB keeps of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class ActiveSession:
    key: str  # the stored hash, never the id itself
    username: str
    data: dict[str, Any] = field(default_factory=dict)


def revoke_user_sessions(conn: sa.Connection, username: str) -> int:
    """Delete every session of `username` (in the caller's transaction)."""
    result = conn.execute(WEB_SESSIONS.delete().where(WEB_SESSIONS.c.username == username))
    return int(result.rowcount or 0)


class WebSessionRepository:
    """All access to the `web_sessions` table."""

    def __init__(
        self, engine: sa.Engine, *, idle: timedelta, lifetime: timedelta, clock: Clock
    ) -> None:
        self.engine = engine
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

    def _expired(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(
            WEB_SESSIONS.c.last_seen_at <= now - self.idle,
            WEB_SESSIONS.c.created_at <= now - self.lifetime,
        )

    def create(self, username: str, data: dict[str, Any], address: str | None) -> str:
        """A new session; returns the id for the cookie (not stored anywhere)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(WEB_SESSIONS.delete().where(self._expired(now)))
            conn.execute(
                WEB_SESSIONS.insert().values(
                    id_sha256=session_key(session_id),
                    username=username,
                    data=data,
                    address=address,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return session_id

    def resume(self, session_id: str) -> ActiveSession | None:
        """The live session with this id; None (and the row deleted) when it has expired."""
        if len(session_id) > _MAX_ID_CHARS:
            return None
        key, now = session_key(session_id), self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(WEB_SESSIONS).where(WEB_SESSIONS.c.id_sha256 == key)
            ).first()
            if row is None:
                return None
            if row.last_seen_at <= now - self.idle or (row.created_at <= now - self.lifetime):
                conn.execute(WEB_SESSIONS.delete().where(WEB_SESSIONS.c.id_sha256 == key))
                return None
            if now - row.last_seen_at >= _TOUCH_EVERY:
                conn.execute(
                    WEB_SESSIONS.update()
                    .where(WEB_SESSIONS.c.id_sha256 == key)
                    .values(last_seen_at=now)
                )
        return ActiveSession(key=key, username=str(row.username), data=dict(row.data or {}))

    def save_data(self, key: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                WEB_SESSIONS.update().where(WEB_SESSIONS.c.id_sha256 == key).values(data=data)
            )

    def revoke(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(WEB_SESSIONS.delete().where(WEB_SESSIONS.c.id_sha256 == key))
