"""Client-side rate budgets per Pinterest rate-limit category, shared by all threads of a run.

Pinterest limits calls per user per app and per category (`x-ratelimit-category` in its
OpenAPI description) plus a universal per-second limit. A run paces itself against the same
numbers instead of collecting 429s. The budget is a Protocol so a shared (e.g. Redis) budget can
replace the in-process one when several processes act for the same user and app.

The in-process budget is a sliding-window log: at most `calls` calls in any `per_seconds`
window. A call's stamp moves from its send time to its completion time when it is settled, so a
slow network can never make two calls look further apart to us than to Pinterest.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from pinads.errors import RateLimitedError

__all__ = [
    "OPERATION_CATEGORIES",
    "STANDARD_TIER",
    "TOTAL",
    "TRIAL_TIER",
    "UNKNOWN_CATEGORY",
    "Permit",
    "RateBudgets",
    "RateLimit",
    "RateLimits",
    "SlidingWindowBudgets",
    "category_for",
    "shared_budgets",
]

TOTAL = "total"
UNKNOWN_CATEGORY = "unknown"
_ACCOUNT = "/ad_accounts/{ad_account_id}"

# (method, path template) -> category, for every operation pinads calls. Written out here (not
# read from the emulator's extract) so a mistake is caught by the spec test, not shared.
OPERATION_CATEGORIES: Mapping[tuple[str, str], str] = {
    ("POST", "/oauth/token"): "org_read",
    ("POST", "/oauth/token/revoke"): "org_write",
    ("GET", "/user_account"): "org_read",
    ("GET", "/ad_accounts"): "ads_read",
    ("GET", _ACCOUNT): "ads_read",
    **{
        ("GET", f"{_ACCOUNT}/{entity}"): "ads_read"
        for entity in (
            "campaigns",
            "ad_groups",
            "ads",
            "keywords",
            "audiences",
            "customer_lists",
            "conversion_tags",
            "product_group_promotions",
            "templates",
        )
    },
    ("GET", f"{_ACCOUNT}/campaigns/{{campaign_id}}"): "ads_read",
    ("GET", f"{_ACCOUNT}/ad_groups/{{ad_group_id}}"): "ads_read",
    ("GET", f"{_ACCOUNT}/ads/{{ad_id}}"): "ads_read",
    **{
        ("GET", f"{_ACCOUNT}/{endpoint}"): "ads_analytics"
        for endpoint in (
            "analytics",
            "campaigns/analytics",
            "ad_groups/analytics",
            "ads/analytics",
            "product_groups/analytics",
            "pins/analytics",
            "targeting_analytics",
            "campaigns/targeting_analytics",
            "ad_groups/targeting_analytics",
            "ads/targeting_analytics",
            "reports",
        )
    },
    ("POST", f"{_ACCOUNT}/reports"): "ads_analytics",
    ("POST", f"{_ACCOUNT}/templates/{{template_id}}/reports"): "ads_analytics",
    ("GET", "/resources/metrics_ready_state"): "ads_analytics",
    ("GET", "/resources/targeting/{targeting_type}"): "ads_read",
    ("GET", "/catalogs/product_groups"): "catalogs_read",
}


def _compile(template: str) -> re.Pattern[str]:
    parts = [("[^/]+" if p.startswith("{") else re.escape(p)) for p in template.split("/")]
    return re.compile("/".join(parts) + "/?")


# Templates with more literal segments first, so `/campaigns/analytics` beats `/{campaign_id}`.
_MATCHERS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, _compile(template), category)
    for (method, template), category in sorted(
        OPERATION_CATEGORIES.items(),
        key=lambda item: -sum(1 for p in item[0][1].split("/") if p and not p.startswith("{")),
    )
)


def category_for(method: str, path: str) -> str:
    """The rate-limit category of a call; `UNKNOWN_CATEGORY` (total limit only) if unlisted."""
    path = path.split("?", 1)[0]
    for matcher_method, pattern, category in _MATCHERS:
        if matcher_method == method.upper() and pattern.fullmatch(path):
            return category
    return UNKNOWN_CATEGORY


class RateLimit(BaseModel):
    """At most `calls` calls in any window of `per_seconds` seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = Field(gt=0)
    per_seconds: float = Field(gt=0)

    def describe(self) -> str:
        unit = {1.0: "second", 60.0: "minute", 3600.0: "hour", 86400.0: "day"}
        per = unit.get(self.per_seconds, f"{self.per_seconds:g} s")
        return f"{self.calls} per {per}"


class RateLimits(BaseModel):
    """Limits per category plus the universal limit; configurable per authorizer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: dict[str, RateLimit] = Field(default_factory=dict)
    total: RateLimit | None = Field(default=None, description="Universal limit, all calls.")
    max_wait_seconds: float = Field(
        default=900.0,
        ge=0,
        description="Longest wait for a budget; beyond it the call fails with RateLimitedError.",
    )


_MINUTE = 60.0
_DAY = 86400.0
# Pinterest's Standard tier: per minute per user per app; universal 100 per second.
# ads_analytics and ads_read are Pinterest's published figures; org_read and catalogs_read come
# from a third-party copy of the table (shared/reference/pinterest-api.md section 5).
STANDARD_TIER = RateLimits(
    categories={
        "ads_analytics": RateLimit(calls=300, per_seconds=_MINUTE),
        "ads_read": RateLimit(calls=1000, per_seconds=_MINUTE),
        "org_read": RateLimit(calls=1000, per_seconds=_MINUTE),
        "catalogs_read": RateLimit(calls=100, per_seconds=_MINUTE),
    },
    total=RateLimit(calls=100, per_seconds=1.0),
)
# Trial apps: per day per app, 1,000 requests a day in all.
TRIAL_TIER = RateLimits(
    categories={
        "ads_analytics": RateLimit(calls=1000, per_seconds=_DAY),
        "ads_read": RateLimit(calls=1000, per_seconds=_DAY),
        "org_read": RateLimit(calls=1000, per_seconds=_DAY),
        "catalogs_read": RateLimit(calls=1000, per_seconds=_DAY),
    },
    total=RateLimit(calls=1000, per_seconds=_DAY),
    max_wait_seconds=0.0,
)


@dataclass(frozen=True)
class Permit:
    """Permission for one call: give it back to `settle` when the answer arrived."""

    category: str
    issued_at: float
    waited_seconds: float


class RateBudgets(Protocol):
    """A rate budget shared by every thread (or process) acting for one user and app."""

    def acquire(self, category: str) -> Permit:
        """Block until a call in `category` may be made; raise `RateLimitedError` if that
        would take longer than the budget is allowed to wait."""
        ...

    def settle(self, permit: Permit) -> None:
        """The call made under `permit` has been answered."""
        ...

    def pause(self, category: str, seconds: float) -> None:
        """Pinterest said to wait: hold every call in `category` for `seconds`."""
        ...


class _SlidingWindow:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.stamps: list[float] = []  # sorted

    def wait_needed(self, now: float) -> float:
        cut = bisect.bisect_right(self.stamps, now - self.limit.per_seconds)
        del self.stamps[:cut]
        if len(self.stamps) < self.limit.calls:
            return 0.0
        oldest_blocking = self.stamps[len(self.stamps) - self.limit.calls]
        return oldest_blocking + self.limit.per_seconds - now

    def add(self, stamp: float) -> None:
        bisect.insort(self.stamps, stamp)

    def move(self, old: float, new: float) -> None:
        index = bisect.bisect_left(self.stamps, old)
        if index < len(self.stamps) and self.stamps[index] == old:
            del self.stamps[index]
            bisect.insort(self.stamps, new)


class SlidingWindowBudgets:
    """In-process `RateBudgets`: thread-safe sliding-window logs per category and in total."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits or STANDARD_TIER
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows = {name: _SlidingWindow(lim) for name, lim in self.limits.categories.items()}
        self._total = _SlidingWindow(self.limits.total) if self.limits.total else None
        self._paused_until: dict[str, float] = {}

    def _windows_for(self, category: str) -> list[_SlidingWindow]:
        own = self._windows.get(category)
        return [w for w in (own, self._total) if w is not None]

    def _wait_needed(self, category: str, now: float) -> tuple[float, str]:
        wait, reason = self._paused_until.get(category, now) - now, "Pinterest asked to wait"
        for window in self._windows_for(category):
            needed = window.wait_needed(now)
            if needed > wait:
                scope = category if window is not self._total else "all calls"
                wait, reason = needed, f"{scope}: {window.limit.describe()}"
        return wait, reason

    def acquire(self, category: str) -> Permit:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait, reason = self._wait_needed(category, now)
                if wait <= 0:
                    for window in self._windows_for(category):
                        window.add(now)
                    return Permit(category=category, issued_at=now, waited_seconds=waited)
            if waited + wait > self.limits.max_wait_seconds:
                raise RateLimitedError(
                    f"the rate budget for {category} is used up ({reason}); the next call would "
                    f"be allowed in {wait:.0f} s, longer than the "
                    f"{self.limits.max_wait_seconds:.0f} s pinads waits: run again later or "
                    "raise the authorizer's rate limits",
                    status=None,
                    retry_after_seconds=wait,
                )
            self._sleep(wait)
            waited += wait

    def settle(self, permit: Permit) -> None:
        with self._lock:
            now = self._clock()
            for window in self._windows_for(permit.category):
                window.move(permit.issued_at, now)

    def pause(self, category: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            self._paused_until[category] = max(self._paused_until.get(category, until), until)


_SHARED: dict[str, SlidingWindowBudgets] = {}
_SHARED_LOCK = threading.Lock()


def shared_budgets(key: str, limits: RateLimits | None = None) -> SlidingWindowBudgets:
    """The process-wide budget for `key` (e.g. "<pinterest user id>:<client id>": Pinterest's
    limits are per user per app), so concurrent runs for the same user and app share it. The
    limits of the first caller win until `limits` differ, which replaces the budget."""
    with _SHARED_LOCK:
        budget = _SHARED.get(key)
        if budget is None or (limits is not None and budget.limits != limits):
            budget = SlidingWindowBudgets(limits)
            _SHARED[key] = budget
        return budget
