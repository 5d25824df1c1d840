"""Failed logins and invalid API tokens, counted over a sliding window in the control DB (so
the counts hold across restarts and across server processes sharing one control DB).

Beyond a limit the caller is answered 429 with Retry-After, before any password is checked,
so a throttled guess costs no scrypt work. A successful login clears its user's count; an
address's count only ages out, so one good account cannot reset a spraying address.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from pinads.web.policy import WebPolicy
from pinads.web.schema import LOGIN_FAILURES
from pinads.web.sessions import Clock

__all__ = ["Counter", "Throttle", "login_counters", "minutes", "token_counter"]

_MAX_KEY_CHARS = 255


@dataclass(frozen=True, slots=True)
class Counter:
    scope: str  # "user", "address" or "token"
    key: str
    limit: int

    @property
    def stored_key(self) -> str:
        return self.key[:_MAX_KEY_CHARS]


class Throttle:
    def __init__(self, engine: sa.Engine, policy: WebPolicy, clock: Clock) -> None:
        self.engine = engine
        self.window = policy.window
        self.clock = clock

    def retry_after(self, counters: Sequence[Counter]) -> int | None:
        """Seconds until every counter is under its limit again; None when all are now."""
        now = self.clock()
        waits = []
        with self.engine.connect() as conn:
            for counter in counters:
                times = (
                    conn.execute(
                        sa.select(LOGIN_FAILURES.c.at)
                        .where(
                            LOGIN_FAILURES.c.scope == counter.scope,
                            LOGIN_FAILURES.c.key == counter.stored_key,
                            LOGIN_FAILURES.c.at > now - self.window,
                        )
                        .order_by(LOGIN_FAILURES.c.at)
                    )
                    .scalars()
                    .all()
                )
                if len(times) >= counter.limit:
                    # Under the limit once this many of the oldest have left the window.
                    leaves = times[len(times) - counter.limit] + self.window
                    waits.append(max(1, math.ceil((leaves - now).total_seconds())))
        return max(waits) if waits else None

    def record_failure(self, counters: Sequence[Counter]) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            # Rows out of every window are of no use: the table stays small under attack.
            conn.execute(LOGIN_FAILURES.delete().where(LOGIN_FAILURES.c.at <= now - self.window))
            conn.execute(
                LOGIN_FAILURES.insert(),
                [{"scope": c.scope, "key": c.stored_key, "at": now} for c in counters],
            )

    def reset(self, counter: Counter) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                LOGIN_FAILURES.delete().where(
                    LOGIN_FAILURES.c.scope == counter.scope,
                    LOGIN_FAILURES.c.key == counter.stored_key,
                )
            )


def login_counters(policy: WebPolicy, username: str, address: str) -> list[Counter]:
    """The counts a login attempt is held to: its user name's first (a success resets it)."""
    return [
        Counter("user", username, policy.login_failures_per_user),
        Counter("address", address, policy.login_failures_per_address),
    ]


def token_counter(policy: WebPolicy, address: str) -> Counter:
    return Counter("token", address, policy.token_failures_per_address)


def minutes(seconds: int) -> str:
    """A wait in words: "15 minutes", "1 minute"."""
    count = math.ceil(seconds / 60)
    return f"{count} minute{'s' if count != 1 else ''}"
