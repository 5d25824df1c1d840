"""Failed logins and invalid API tokens in the control DB, keyed by (scope, key): the counts
behind the web's login throttling (`pinads.web.throttle`), shared by every server process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from pinads.state.schema import LOGIN_FAILURES

__all__ = ["FailureKey", "LoginFailureRepository"]

# (scope, key): scope "user" (key: user name), "address" or "token" (key: client address).
FailureKey = tuple[str, str]


class LoginFailureRepository:
    """All access to the `login_failures` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def times(self, keys: Sequence[FailureKey], *, after: datetime) -> list[list[datetime]]:
        """For each key, the times of its failures after `after`, oldest first."""
        found = []
        with self._engine.connect() as conn:
            for scope, key in keys:
                query = (
                    sa.select(LOGIN_FAILURES.c.at)
                    .where(
                        LOGIN_FAILURES.c.scope == scope,
                        LOGIN_FAILURES.c.key == key,
                        LOGIN_FAILURES.c.at > after,
                    )
                    .order_by(LOGIN_FAILURES.c.at)
                )
                found.append(list(conn.execute(query).scalars()))
        return found

    def record(self, keys: Sequence[FailureKey], *, at: datetime, forget_until: datetime) -> None:
        """A failure at `at` for each key; failures at or before `forget_until` are deleted
        (out of every window, they are of no use: the table stays small under attack)."""
        with self._engine.begin() as conn:
            conn.execute(LOGIN_FAILURES.delete().where(LOGIN_FAILURES.c.at <= forget_until))
            conn.execute(
                LOGIN_FAILURES.insert(), [{"scope": s, "key": k, "at": at} for s, k in keys]
            )

    def clear(self, scope: str, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                LOGIN_FAILURES.delete().where(
                    LOGIN_FAILURES.c.scope == scope, LOGIN_FAILURES.c.key == key
                )
            )
