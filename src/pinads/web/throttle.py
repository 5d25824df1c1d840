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

from pinads.state import Clock, LoginFailureRepository
from pinads.state.login_failures import FailureKey
from pinads.web.policy import WebPolicy

__all__ = ["Counter", "Throttle", "login_counters", "minutes", "token_counter"]

_MAX_KEY_CHARS = 255


@dataclass(frozen=True, slots=True)
class Counter:
    scope: str  # "user", "address" or "token"
    key: str
    limit: int

    @property
    def stored_key(self) -> FailureKey:
        return self.scope, self.key[:_MAX_KEY_CHARS]


class Throttle:
    def __init__(self, failures: LoginFailureRepository, policy: WebPolicy, clock: Clock) -> None:
        self.failures = failures
        self.window = policy.window
        self.clock = clock

    def retry_after(self, counters: Sequence[Counter]) -> int | None:
        """Seconds until every counter is under its limit again; None when all are now."""
        now = self.clock()
        found = self.failures.times([c.stored_key for c in counters], after=now - self.window)
        waits = []
        for counter, times in zip(counters, found, strict=True):
            if len(times) >= counter.limit:
                # Under the limit once this many of the oldest have left the window.
                leaves = times[len(times) - counter.limit] + self.window
                waits.append(max(1, math.ceil((leaves - now).total_seconds())))
        return max(waits) if waits else None

    def record_failure(self, counters: Sequence[Counter]) -> None:
        now = self.clock()
        keys = [c.stored_key for c in counters]
        self.failures.record(keys, at=now, forget_until=now - self.window)

    def reset(self, counter: Counter) -> None:
        self.failures.clear(*counter.stored_key)


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
