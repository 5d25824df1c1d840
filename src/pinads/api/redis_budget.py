"""`RedisBudgets`: one rate budget per Pinterest user and app shared by every process and
machine through Redis, for pinads workers and schedulers running side by side.

Each category (and the universal limit) is a sliding-window log in a sorted set: one member per
call, scored with its time. One Lua script checks the windows and records the call atomically,
so two workers can never both take the last slot. Redis' own clock (`TIME`) stamps every call,
so the machines' clocks need not agree.

Why a sliding-window log and not a token bucket: Pinterest (and the emulator) count calls in
windows; a bucket holding N tokens that refills N per window lets 2N calls through within one
window (a full bucket spent at its end, then the refill), which is exactly the 429 this budget
exists to avoid. The log allows at most N calls in *any* window of the limit's length.

A call in flight counts in every window until it is answered (its stamp lies in the future),
then its stamp is its completion time. Stamping it with its send time instead would let a call
that was slow to reach Pinterest (a busy machine, a slow network) fall out of the log while
Pinterest counts it in a window still open: with that rule no delay can cause a 429. A permit
of a process that died is never settled: it leaves the log `IN_FLIGHT_HOLD_MS` after it was
taken. A 429's wait (`pause`) is shared too: every process holds the category until Pinterest's
time is up.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from pinads.api.ratelimit import STANDARD_TIER, Permit, RateLimit, RateLimits
from pinads.errors import RateLimitedError, StateError

__all__ = ["RedisBudgets", "redis_budgets", "redis_client"]

# How long a call taken and never settled (its process died) keeps its place in the log:
# longer than any call can take (the client's timeouts are well below it).
IN_FLIGHT_HOLD_MS = 300_000
# When only calls in flight block, look again this soon: one may be answered any moment.
IN_FLIGHT_RECHECK_MS = 20

# KEYS: pause key, then one sorted set per window. ARGV: member, hold and recheck in ms, then
# per window its limit and length in ms. Returns {0, 0} when the call was recorded (stamped
# `hold` ms ahead: in flight), else the wait in ms and the index of the window that blocks
# (0 = Pinterest asked to wait).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold, recheck = tonumber(ARGV[2]), tonumber(ARGV[3])
local wait, why = 0, 0
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then wait = paused - now end
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local stamp = tonumber(oldest[2])
    local needed = stamp + window - now
    if stamp > now then needed = recheck end
    if needed > wait then wait, why = needed, i - 1 end
  end
end
if wait > 0 then return {wait, why} end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], now + hold, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], hold + tonumber(ARGV[2 * i + 1]) * 2)
end
return {0, 0}
"""

# KEYS: the permit's sorted sets. ARGV: member. Moves its stamp to now, if still there.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1]) end
return 0
"""

# KEYS: pause key. ARGV: milliseconds. Extends the pause, never shortens it.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > current then redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
"""


_CLIENTS: dict[str, redis.Redis] = {}
_CLIENTS_LOCK = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """The process' client for `url` (one connection pool per URL); StateError (one line,
    without the URL, which may hold a password) if it cannot be parsed."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(url)
        if client is None:
            try:
                client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
            except ValueError as exc:
                raise StateError(
                    f"the Redis URL is not usable ({exc}): fix PINADS_REDIS_URL "
                    "(e.g. redis://host:6379/0)"
                ) from exc
            _CLIENTS[url] = client
        return client


def redis_budgets(
    url: str, key: str, limits: RateLimits | None = None, *, prefix: str = "pinads"
) -> RedisBudgets:
    """The budget of `key` (Pinterest user and app) in the Redis at `url`."""
    return RedisBudgets(redis_client(url), key, limits, prefix=prefix)


class RedisBudgets:
    """`RateBudgets` kept in Redis under `<prefix>:budget:<key>:<category>`: every process that
    uses the same Redis, prefix and key (Pinterest user and app) shares one budget."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        limits: RateLimits | None = None,
        *,
        prefix: str = "pinads",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits or STANDARD_TIER
        self._redis = client
        self._base = f"{prefix}:budget:{key}"
        self._sleep = sleep
        self._acquire = client.register_script(_ACQUIRE)
        self._settle = client.register_script(_SETTLE)
        self._pause = client.register_script(_PAUSE)

    def _windows(self, category: str) -> list[tuple[str, RateLimit, str]]:
        """(sorted set key, limit, what it limits) of the windows a call in `category` uses."""
        windows: list[tuple[str, RateLimit, str]] = []
        own = self.limits.categories.get(category)
        if own is not None:
            windows.append((f"{self._base}:{category}", own, category))
        if self.limits.total is not None:
            windows.append((f"{self._base}:*", self.limits.total, "all calls"))
        return windows

    def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise StateError(
                f"the shared rate budget in Redis is unreachable ({type(exc).__name__}): check "
                "PINADS_REDIS_URL and that Redis is up"
            ) from exc

    def acquire(self, category: str) -> Permit:
        windows = self._windows(category)
        keys = [f"{self._base}:pause:{category}", *(key for key, _, _ in windows)]
        args: list[Any] = [uuid.uuid4().hex, IN_FLIGHT_HOLD_MS, IN_FLIGHT_RECHECK_MS]
        for _, limit, _ in windows:
            args += [limit.calls, int(limit.per_seconds * 1000)]
        waited = 0.0
        while True:
            wait_ms, why = self._run(self._acquire, keys, args)
            if int(wait_ms) <= 0:
                return _RedisPermit(
                    category=category,
                    issued_at=time.monotonic(),
                    waited_seconds=waited,
                    member=str(args[0]),
                    keys=tuple(keys[1:]),
                )
            wait = int(wait_ms) / 1000
            if waited + wait > self.limits.max_wait_seconds:
                raise self._used_up(category, windows, int(why), wait)
            self._sleep(wait)
            waited += wait

    def _used_up(
        self, category: str, windows: list[tuple[str, RateLimit, str]], why: int, wait: float
    ) -> RateLimitedError:
        if why == 0:
            reason = "Pinterest asked to wait"
        else:
            _, limit, scope = windows[why - 1]
            reason = f"{scope}: {limit.describe()}"
        return RateLimitedError(
            f"the rate budget for {category} is used up ({reason}); the next call would be "
            f"allowed in {wait:.0f} s, longer than the {self.limits.max_wait_seconds:.0f} s "
            "pinads waits: run again later or raise the authorizer's rate limits",
            status=None,
            retry_after_seconds=wait,
        )

    def settle(self, permit: Permit) -> None:
        if isinstance(permit, _RedisPermit) and permit.keys:
            self._run(self._settle, list(permit.keys), [permit.member])

    def pause(self, category: str, seconds: float) -> None:
        millis = max(int(seconds * 1000), 0)
        if millis:
            self._run(self._pause, [f"{self._base}:pause:{category}"], [millis])


@dataclass(frozen=True)
class _RedisPermit(Permit):
    """A permit with its member in the sorted sets (to move its stamp when settled)."""

    member: str = ""
    keys: tuple[str, ...] = ()
