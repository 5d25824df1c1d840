"""Web users in the control DB: names, password hashes (the hashing is `pinads.web.users`),
roles (their meaning is `pinads.web.roles`) and whether they are disabled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.schema import API_TOKENS, USERS
from pinads.state.web_sessions import revoke_user_sessions

__all__ = ["UserInfo", "UserRepository"]


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


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
        """The hash to check a login against; None for a missing or disabled user."""
        with self._engine.connect() as conn:
            stored = conn.execute(
                sa.select(USERS.c.password_hash).where(
                    USERS.c.username == username, USERS.c.disabled_at.is_(None)
                )
            ).scalar_one_or_none()
        return None if stored is None else str(stored)

    def role(self, username: str) -> str | None:
        """The user's role; None for a missing or disabled user."""
        with self._engine.connect() as conn:
            found = conn.execute(
                sa.select(USERS.c.role).where(
                    USERS.c.username == username, USERS.c.disabled_at.is_(None)
                )
            ).scalar_one_or_none()
        return None if found is None else str(found)

    def all(self) -> list[UserInfo]:
        query = sa.select(USERS).order_by(USERS.c.username)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [UserInfo(r.username, r.role, r.created_at, r.disabled_at) for r in rows]

    def active_admins(self) -> list[str]:
        query = sa.select(USERS.c.username).where(
            USERS.c.role == "admin", USERS.c.disabled_at.is_(None)
        )
        with self._engine.connect() as conn:
            return [str(name) for name in conn.execute(query).scalars()]

    def set_role(self, username: str, role: str) -> bool:
        """False when there is no such user."""
        with self._engine.begin() as conn:
            done = conn.execute(
                USERS.update().where(USERS.c.username == username).values(role=role)
            )
        return bool(done.rowcount)

    def set_disabled(self, username: str, *, disabled: bool) -> bool:
        """Disable (every web session of the user ends) or enable; False: no such user."""
        with self._engine.begin() as conn:
            done = conn.execute(
                USERS.update()
                .where(USERS.c.username == username)
                .values(disabled_at=utc_now() if disabled else None)
            )
            if disabled:
                revoke_user_sessions(conn, username)
        return bool(done.rowcount)

    def delete(self, username: str) -> bool:
        """Delete the user with its API tokens and web sessions; False: no such user."""
        with self._engine.begin() as conn:
            revoke_user_sessions(conn, username)
            conn.execute(API_TOKENS.delete().where(API_TOKENS.c.username == username))
            done = conn.execute(USERS.delete().where(USERS.c.username == username))
        return bool(done.rowcount)

    def save(self, username: str, password_hash: str, *, role: str = "admin") -> bool:
        """Create the user with `role`, or replace its password hash (its role stays) and end
        every web session of the user (in one transaction); True when created."""
        with self._engine.begin() as conn:
            found = conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username))
            if found.first() is None:
                conn.execute(
                    USERS.insert().values(
                        username=username,
                        password_hash=password_hash,
                        created_at=utc_now(),
                        role=role,
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
