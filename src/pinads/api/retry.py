"""Bounded retries for transient failures: 429, 5xx, timeouts and connection errors only.

The wait comes from Pinterest when it says (`x-ratelimit-reset`, `Retry-After`, or "Retry after N
seconds" in the message — carried as `RateLimitedError.retry_after_seconds`), else from
exponential backoff with jitter. Attempts and total waiting are both bounded; giving up raises an
error of the same kind that says how long we tried, so a rate limit is never a silent gap.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from pinads.errors import RateLimitedError, RetriableApiError, UnreachableError

__all__ = ["Retrier", "RetryPolicy", "Sleep", "gave_up_error"]

T = TypeVar("T")
Sleep = Callable[[float], None]
OnWait = Callable[[RetriableApiError, float], None]


class RetryPolicy(BaseModel):
    """How hard to try before giving up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1, description="Calls per request, first included.")
    max_unreachable_attempts: int = Field(
        default=3,
        ge=1,
        description="Calls per request while no connection can be made (refused, unknown host): "
        "a wrong URL or a server that is down should fail in seconds, not half a minute.",
    )
    max_total_wait_seconds: float = Field(
        default=600.0, ge=0, description="Most seconds spent waiting between attempts."
    )
    base_backoff_seconds: float = Field(default=1.0, gt=0, description="First backoff step.")
    max_backoff_seconds: float = Field(default=60.0, gt=0, description="Largest backoff step.")

    def backoff_seconds(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": between half and all of the step."""
        step = min(self.max_backoff_seconds, self.base_backoff_seconds * 2.0 ** (attempt - 1))
        return step / 2 + rng.uniform(0, step / 2)

    def wait_seconds(self, error: RetriableApiError, attempt: int, rng: random.Random) -> float:
        """Pinterest's hint when it gave one (plus a little jitter so threads do not stampede),
        else backoff."""
        hint = error.retry_after_seconds if isinstance(error, RateLimitedError) else None
        if hint is not None:
            return max(hint, 0.05) + rng.uniform(0, min(1.0, 0.1 * max(hint, 0.05)))
        return self.backoff_seconds(attempt, rng)


def gave_up_error(
    error: RetriableApiError, *, attempts: int, waited_seconds: float, reason: str = ""
) -> RetriableApiError:
    """An error of the same kind saying that and why we stopped retrying."""
    why = f" ({reason})" if reason else ""
    text = (
        f"{error.message} — gave up after {attempts} attempt(s) and {waited_seconds:.1f} s of "
        f"waiting{why}: retry later"
    )
    if isinstance(error, RateLimitedError):
        return RateLimitedError(
            text,
            status=error.status,
            code=error.code,
            request_id=error.request_id,
            retry_after_seconds=error.retry_after_seconds,
        )
    kind = UnreachableError if isinstance(error, UnreachableError) else RetriableApiError
    return kind(text, status=error.status, code=error.code, request_id=error.request_id)


class Retrier:
    """Runs a call, retrying `RetriableApiError`s within the policy's bounds."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        on_wait: OnWait | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._on_wait = on_wait

    def _attempts_for(self, error: RetriableApiError) -> int:
        if isinstance(error, UnreachableError):
            return min(self.policy.max_unreachable_attempts, self.policy.max_attempts)
        return self.policy.max_attempts

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()`; on a retriable error wait and call again, at most `max_attempts` times."""
        waited = 0.0
        attempt = 1
        while True:
            try:
                return fn()
            except RetriableApiError as exc:
                if attempt >= self._attempts_for(exc):
                    raise gave_up_error(exc, attempts=attempt, waited_seconds=waited) from exc
                with self._rng_lock:
                    wait = self.policy.wait_seconds(exc, attempt, self._rng)
                if waited + wait > self.policy.max_total_wait_seconds:
                    reason = f"the next wait of {wait:.0f} s exceeds the retry time budget"
                    raise gave_up_error(
                        exc, attempts=attempt, waited_seconds=waited, reason=reason
                    ) from exc
                if self._on_wait is not None:
                    self._on_wait(exc, wait)
                self._sleep(wait)
                waited += wait
                attempt += 1
