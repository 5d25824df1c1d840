"""`RedisBudgets` against the real Redis at 127.0.0.1:6379: one budget shared by clients that
do not share memory (separate connection pools stand for separate processes and machines)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import cast

import pytest
import redis

from pinads.api.ratelimit import RateLimit, RateLimits
from pinads.api.redis_budget import RedisBudgets
from pinads.errors import RateLimitedError, StateError

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"pinads-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _budget(prefix: str, limits: RateLimits, key: str = "user|app") -> RedisBudgets:
    # A connection pool of its own: shares nothing with other budgets but the Redis server.
    return RedisBudgets(redis.Redis.from_url(REDIS_URL), key, limits, prefix=prefix)


def _limits(calls: int, per_seconds: float, *, total: int | None = None) -> RateLimits:
    return RateLimits(
        categories={"ads_analytics": RateLimit(calls=calls, per_seconds=per_seconds)},
        total=RateLimit(calls=total, per_seconds=per_seconds) if total else None,
        max_wait_seconds=0,
    )


def _granted(budget: RedisBudgets, category: str, attempts: int) -> int:
    granted = 0
    for _ in range(attempts):
        try:
            budget.settle(budget.acquire(category))
            granted += 1
        except RateLimitedError:
            pass
    return granted


def test_processes_share_one_budget(prefix: str) -> None:
    limits = _limits(7, 60)
    budgets = [_budget(prefix, limits) for _ in range(3)]
    granted = [0, 0, 0]

    def spend(index: int) -> None:
        granted[index] = _granted(budgets[index], "ads_analytics", 10)

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 7  # of 30 attempts from three "processes", exactly the limit


def test_the_total_limit_binds_across_categories(prefix: str) -> None:
    limits = _limits(10, 60, total=4)
    first, second = _budget(prefix, limits), _budget(prefix, limits)
    assert _granted(first, "ads_analytics", 3) == 3
    assert _granted(second, "ads_read", 3) == 1  # unlisted category: only the total applies
    with pytest.raises(RateLimitedError, match="all calls: 4 per minute"):
        second.acquire("ads_analytics")


def test_other_users_and_prefixes_have_budgets_of_their_own(prefix: str) -> None:
    limits = _limits(2, 60)
    assert _granted(_budget(prefix, limits, key="user-a|app"), "ads_analytics", 5) == 2
    assert _granted(_budget(prefix, limits, key="user-b|app"), "ads_analytics", 5) == 2
    assert _granted(_budget(f"{prefix}:other", limits, key="user-a|app"), "ads_analytics", 5) == 2


def test_a_window_frees_its_calls_when_it_has_passed(prefix: str) -> None:
    limits = _limits(3, 0.2)
    budget = _budget(prefix, limits)
    assert _granted(budget, "ads_analytics", 5) == 3
    time.sleep(0.25)
    assert _granted(budget, "ads_analytics", 5) == 3


def test_waiting_for_the_window_instead_of_failing(prefix: str) -> None:
    limits = _limits(2, 0.3).model_copy(update={"max_wait_seconds": 5.0})
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    budget = RedisBudgets(
        redis.Redis.from_url(REDIS_URL), "u|a", limits, prefix=prefix, sleep=sleep
    )
    permits = []
    for _ in range(3):
        permits.append(budget.acquire("ads_analytics"))
        budget.settle(permits[-1])  # answered at once: counted from now on
    assert len(slept) == 1 and 0 < slept[0] <= 0.3
    assert permits[2].waited_seconds == slept[0]


def test_a_call_in_flight_counts_until_it_is_answered(prefix: str) -> None:
    # A call sent long ago but still unanswered may have reached Pinterest only now: it must
    # keep its place in every window until it is settled, then count from its answer.
    budget = _budget(prefix, _limits(1, 0.1))
    slow = budget.acquire("ads_analytics")
    time.sleep(0.15)  # its window has passed since it was sent
    with pytest.raises(RateLimitedError):
        budget.acquire("ads_analytics")
    budget.settle(slow)
    with pytest.raises(RateLimitedError):  # answered just now: its window runs from here
        budget.acquire("ads_analytics")
    time.sleep(0.15)
    assert _granted(budget, "ads_analytics", 2) == 1


def test_settling_moves_the_stamp_to_the_answer(prefix: str) -> None:
    budget = _budget(prefix, _limits(5, 60))
    client = redis.Redis.from_url(REDIS_URL)
    permit = budget.acquire("ads_analytics")
    key = f"{prefix}:budget:user|app:ads_analytics"
    # redis-py's sync and async clients share annotations: say which this one returns.
    ((member, in_flight),) = cast(
        list[tuple[bytes, float]], client.zrange(key, 0, -1, withscores=True)
    )
    seconds, micros = cast(tuple[int, int], client.time())
    now_ms = seconds * 1000 + micros // 1000
    assert in_flight > now_ms + 60_000  # ahead of every window while unanswered
    budget.settle(permit)
    answered = cast(float | None, client.zscore(key, member))
    assert answered is not None and now_ms - 1000 < answered <= now_ms + 1000


def test_a_429_pause_holds_every_process(prefix: str) -> None:
    limits = _limits(100, 60)
    told, other = _budget(prefix, limits), _budget(prefix, limits)
    told.pause("ads_analytics", 30)
    with pytest.raises(RateLimitedError, match="Pinterest asked to wait"):
        other.acquire("ads_analytics")
    assert _granted(other, "ads_read", 1) == 1  # other categories go on
    other.pause("ads_analytics", 1)  # a shorter pause never shortens the longer one
    with pytest.raises(RateLimitedError, match="allowed in 30 s"):
        other.acquire("ads_analytics")


def test_unreachable_redis_is_one_clear_error() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    budget = RedisBudgets(client, "u|a", _limits(1, 1))
    with pytest.raises(StateError, match=r"Redis is unreachable.*PINADS_REDIS_URL") as info:
        budget.acquire("ads_analytics")
    assert "\n" not in str(info.value)
