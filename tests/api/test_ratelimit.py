"""Rate budgets: the category table matches Pinterest's spec; the sliding window holds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pinads.api.ratelimit import (
    OPERATION_CATEGORIES,
    STANDARD_TIER,
    UNKNOWN_CATEGORY,
    RateLimit,
    RateLimits,
    SlidingWindowBudgets,
    category_for,
    shared_budgets,
)
from pinads.errors import RateLimitedError

from .conftest import FakeTime

SPEC = Path(__file__).resolve().parents[2] / "spec" / "pinterest-openapi.json"


def test_category_table_matches_spec() -> None:
    spec = json.loads(SPEC.read_text())
    for (method, template), category in OPERATION_CATEGORIES.items():
        operation = spec["paths"][template][method.lower()]
        assert operation["x-ratelimit-category"] == category, (method, template)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/ad_accounts/123/campaigns/analytics", "ads_analytics"),
        ("GET", "/ad_accounts/123/campaigns/456", "ads_read"),
        ("GET", "/ad_accounts/123/campaigns", "ads_read"),
        ("GET", "/ad_accounts/123/reports", "ads_analytics"),
        ("POST", "/ad_accounts/123/reports", "ads_analytics"),
        ("GET", "/ad_accounts", "ads_read"),
        ("GET", "/user_account", "org_read"),
        ("POST", "/oauth/token", "org_read"),
        ("GET", "/boards", UNKNOWN_CATEGORY),
        ("DELETE", "/ad_accounts/123/campaigns", UNKNOWN_CATEGORY),
    ],
)
def test_category_for_concrete_paths(method: str, path: str, expected: str) -> None:
    assert category_for(method, path) == expected


def _max_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for s in stamps[i:] if s < start + window) for i, start in enumerate(stamps))


def test_sliding_window_never_exceeds_limit() -> None:
    fake = FakeTime()
    limits = RateLimits(categories={"ads_analytics": RateLimit(calls=5, per_seconds=1.0)})
    budgets = SlidingWindowBudgets(limits, clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(23):
        permit = budgets.acquire("ads_analytics")
        stamps.append(permit.issued_at)
        budgets.settle(permit)
    assert _max_in_any_window(stamps, 1.0) == 5
    # 23 calls at 5 per second need four full windows of waiting after the first burst.
    assert stamps[-1] - stamps[0] == pytest.approx(4.0)


def test_total_limit_applies_across_categories() -> None:
    fake = FakeTime()
    limits = RateLimits(
        categories={"ads_read": RateLimit(calls=100, per_seconds=1.0)},
        total=RateLimit(calls=3, per_seconds=1.0),
    )
    budgets = SlidingWindowBudgets(limits, clock=fake.clock, sleep=fake.sleep)
    for category in ("ads_read", "org_read", "ads_read"):
        budgets.settle(budgets.acquire(category))
    assert fake.sleeps == []
    permit = budgets.acquire("whatever")
    assert permit.waited_seconds == pytest.approx(1.0)


def test_settle_moves_stamp_to_completion_time() -> None:
    fake = FakeTime()
    limits = RateLimits(categories={"c": RateLimit(calls=1, per_seconds=1.0)})
    budgets = SlidingWindowBudgets(limits, clock=fake.clock, sleep=fake.sleep)
    permit = budgets.acquire("c")
    fake.now += 0.4  # the call took 0.4 s to answer
    budgets.settle(permit)
    second = budgets.acquire("c")
    # A full window after the *answer*, not after the send.
    assert second.issued_at - permit.issued_at == pytest.approx(1.4)


def test_pause_holds_category() -> None:
    fake = FakeTime()
    budgets = SlidingWindowBudgets(STANDARD_TIER, clock=fake.clock, sleep=fake.sleep)
    budgets.pause("ads_analytics", 7.0)
    assert budgets.acquire("ads_analytics").waited_seconds == pytest.approx(7.0)
    assert budgets.acquire("ads_read").waited_seconds == 0.0


def test_exhausted_daily_budget_fails_clearly() -> None:
    fake = FakeTime()
    limits = RateLimits(
        categories={"ads_analytics": RateLimit(calls=2, per_seconds=86400.0)},
        max_wait_seconds=60.0,
    )
    budgets = SlidingWindowBudgets(limits, clock=fake.clock, sleep=fake.sleep)
    budgets.acquire("ads_analytics")
    budgets.acquire("ads_analytics")
    with pytest.raises(RateLimitedError, match=r"ads_analytics: 2 per day") as info:
        budgets.acquire("ads_analytics")
    assert info.value.retry_after_seconds == pytest.approx(86400.0)
    assert fake.sleeps == []


def test_threads_share_one_budget() -> None:
    fake = FakeTime()
    limits = RateLimits(categories={"c": RateLimit(calls=10, per_seconds=1.0)})
    budgets = SlidingWindowBudgets(limits, clock=fake.clock, sleep=fake.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(10):
            permit = budgets.acquire("c")
            with lock:
                stamps.append(permit.issued_at)
            budgets.settle(permit)

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 50
    assert _max_in_any_window(stamps, 1.0) <= 10


def test_shared_budgets_per_user_and_app() -> None:
    first = shared_budgets("u1:app")
    assert shared_budgets("u1:app") is first
    assert shared_budgets("u2:app") is not first
    trial = RateLimits(categories={"ads_analytics": RateLimit(calls=1000, per_seconds=86400.0)})
    replaced = shared_budgets("u1:app", trial)
    assert replaced is not first
    assert replaced.limits == trial
    assert shared_budgets("u1:app") is replaced


def test_every_catalog_endpoint_has_a_budgeted_category() -> None:
    """An endpoint missing from the table would only be paced by the universal limit."""
    from pinads.catalog import DATASETS

    paths = {("GET", "/user_account"), ("POST", "/ad_accounts/{ad_account_id}/reports")}
    for dataset in DATASETS.values():
        for endpoint in (dataset.list_endpoint, dataset.sync):
            if endpoint is not None:
                paths.add(("GET", endpoint.path))
        if dataset.async_report is not None:
            paths.add(("GET", "/ad_accounts/{ad_account_id}/reports"))
    assert len(paths) > 10
    for method, path in sorted(paths):
        assert (method, path) in OPERATION_CATEGORIES, (method, path)
        concrete = path.replace("{ad_account_id}", "549755813001")
        assert category_for(method, concrete) in STANDARD_TIER.categories, (method, path)
