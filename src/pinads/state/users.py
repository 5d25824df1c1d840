"""Web users in the control DB: names and password hashes (the hashing is `pinads.web.users`)."""

from __future__ import annotations

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.schema import USERS
from pinads.state.web_sessions import revoke_user_sessions

__all__ = ["UserRepository"]


class UserRepository:
    """All access to the `users` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def any(self) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one() > 0

    def exists(self, username: str) -> bool:
        with self._engine.connect() as conn:
            found = conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username))
            return found.first() is not None

    def password_hash(self, username: str) -> str | None:
        with self._engine.connect() as conn:
            stored = conn.execute(
                sa.select(USERS.c.password_hash).where(USERS.c.username == username)
            ).scalar_one_or_none()
        return None if stored is None else str(stored)

    def save(self, username: str, password_hash: str) -> bool:
        """Create the user, or replace its password hash and end every web session of the
        user (in one transaction); True when created."""
        with self._engine.begin() as conn:
            found = conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username))
            if found.first() is None:
                conn.execute(
                    USERS.insert().values(
                        username=username, password_hash=password_hash, created_at=utc_now()
                    )
                )
                return True
            conn.execute(
                USERS.update()
                .where(USERS.c.username == username)
                .values(password_hash=password_hash)
            )
            revoke_user_sessions(conn, username)
            return False
