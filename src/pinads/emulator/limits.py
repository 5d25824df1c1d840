"""Rate-limit and fault-injection settings of the emulator (frozen; part of `EmulatorConfig`).

Rate limits follow Pinterest's published Standard-tier numbers: requests per minute per user
per app, one quota per `x-ratelimit-category` of the OpenAPI description. Tests scale them down
with `window_seconds` (e.g. 20 requests per 1-second window).

Faults are drawn from a seeded generator, one draw per targeted request, so the same seed and
the same request sequence give the same faults.

Runtime state lives here too: `RateLimiter` (fixed windows per caller and category),
`FaultDrawer` (the seeded draw sequence) and `Guards` (both, plus the request counters behind
`/_emulator/stats`); `pinads.emulator.guards` puts them in front of the app.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # state -> config -> limits, guards -> limits: only for annotations
    from pinads.emulator.guards import Operation
    from pinads.emulator.state import EmulatorState

__all__ = [
    "FAULT_KINDS",
    "STANDARD_TIER_PER_MINUTE",
    "FaultConfig",
    "FaultDrawer",
    "Guards",
    "Quota",
    "RateLimitConfig",
    "RateLimiter",
]

# Requests per minute per user per app, Pinterest Standard tier. ads_analytics and ads_read are
# Pinterest's official figures; the others come from a third-party copy of the rate-limit table
# (see shared/reference/pinterest-api.md section 5). ads_conversions is per ad account upstream;
# the emulator implements no conversion-upload operation, so keying it per user is harmless.
STANDARD_TIER_PER_MINUTE: Mapping[str, int] = {
    "ads_analytics": 300,
    "ads_read": 1000,
    "ads_write": 400,
    "ads_conversions": 120_000,
    "catalogs_read": 100,
    "catalogs_write": 100,
    "org_read": 1000,
    "org_write": 100,
    "org_analytics": 60,
    "trends_read": 60,
    "advanced_auction_read": 50,
    "advanced_auction_write": 25,
}

# Names of the injected fault kinds, as counted by `/_emulator/stats`.
FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "unavailable",
    "connection_reset",
    "truncated_body",
    "malformed_body",
    "latency",
    "token_revoked",
)


def _standard_tier() -> dict[str, int]:
    return dict(STANDARD_TIER_PER_MINUTE)


class RateLimitConfig(BaseModel):
    """Per-category quotas: `categories[name]` requests per `window_seconds` per caller.

    A caller is (user, app) of the bearer token; requests without a valid token are keyed by
    the client address. Categories missing from `categories` are not limited.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="False switches every quota off.")
    window_seconds: float = Field(
        default=60.0, gt=0, description="Length of a quota window (Pinterest: one minute)."
    )
    categories: dict[str, int] = Field(
        default_factory=_standard_tier,
        description="Requests allowed per window and caller, by x-ratelimit-category.",
    )
    universal_per_second: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Optional cap over all categories per caller per second (Pinterest Standard: 100). "
            "Off by default: in-process tests burst far above it by design."
        ),
    )

    @model_validator(mode="after")
    def _positive_quotas(self) -> Self:
        bad = sorted(name for name, value in self.categories.items() if value < 0)
        if bad:
            raise ValueError(f"rate limits must be >= 0 requests per window: {', '.join(bad)}")
        return self

    def limit_for(self, category: str) -> int | None:
        """Requests per window for a category; None = unlimited."""
        if not self.enabled:
            return None
        return self.categories.get(category)

    def scaled(self, *, window_seconds: float, per_window: Mapping[str, int]) -> RateLimitConfig:
        """A copy with a different window and some quotas replaced (tests)."""
        merged = {**self.categories, **per_window}
        return self.model_copy(update={"window_seconds": window_seconds, "categories": merged})


# A probability in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class FaultConfig(BaseModel):
    """Faults injected into `/v5` responses. All probabilities are per targeted request.

    One uniform draw per targeted request picks at most one of the response faults (429, 500,
    503, connection reset, truncated body, malformed body), so their probabilities must add up
    to at most 1. Latency and token revocation come on top.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=0, description="Seed of the fault draws.")
    rate_limit_probability: Probability = 0.0
    server_error_probability: Probability = 0.0
    unavailable_probability: Probability = 0.0
    connection_reset_probability: Probability = 0.0
    truncated_body_probability: Probability = 0.0
    malformed_body_probability: Probability = 0.0
    latency_ms: float = Field(default=0.0, ge=0, description="Added to each targeted request.")
    revoke_tokens_after_requests: int | None = Field(
        default=None,
        ge=0,
        description=(
            "After this many targeted requests, the next one carrying a bearer token revokes "
            "that token's grant (access and refresh lineage): the user withdrew access."
        ),
    )
    operations: frozenset[str] | None = Field(
        default=None, description="Only these operationIds get faults (None = every operation)."
    )
    categories: frozenset[str] | None = Field(
        default=None, description="Only these rate-limit categories get faults (None = all)."
    )
    report_failure_probability: Probability = Field(
        default=0.0,
        description="Chance that an async report ends FAILED (see `report_fails`).",
    )
    failed_reports: int = Field(
        default=0,
        ge=0,
        description="The next this many async reports to finish end FAILED (counted from when "
        "these faults are set), then reports finish again: a failure a retry gets past.",
    )

    @model_validator(mode="after")
    def _probabilities_fit(self) -> Self:
        if self.response_fault_bands()[-1][1] > 1.0 + 1e-9:
            raise ValueError("the response fault probabilities must add up to at most 1")
        return self

    def response_fault_bands(self) -> tuple[tuple[str, float], ...]:
        """(kind, cumulative upper bound) for each response fault, in draw order."""
        bands: list[tuple[str, float]] = []
        total = 0.0
        for kind, probability in (
            ("rate_limit", self.rate_limit_probability),
            ("server_error", self.server_error_probability),
            ("unavailable", self.unavailable_probability),
            ("connection_reset", self.connection_reset_probability),
            ("truncated_body", self.truncated_body_probability),
            ("malformed_body", self.malformed_body_probability),
        ):
            total += probability
            bands.append((kind, total))
        return tuple(bands)

    @property
    def active(self) -> bool:
        """Whether any fault can happen to a `/v5` request."""
        return (
            self.response_fault_bands()[-1][1] > 0
            or self.latency_ms > 0
            or self.revoke_tokens_after_requests is not None
        )

    def targets(self, operation_id: str, category: str) -> bool:
        """Whether requests of this operation are subject to faults."""
        if self.operations is not None and operation_id not in self.operations:
            return False
        return self.categories is None or category in self.categories

    def report_fails(self, key: str) -> bool:
        """Whether an async report ends FAILED; deterministic per (seed, key). Use a stable
        key such as the report's creation number in this emulator (tokens are random)."""
        if self.report_failure_probability <= 0:
            return False
        digest = hashlib.blake2b(f"{self.seed}:{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.report_failure_probability


@dataclass(frozen=True, slots=True)
class Quota:
    """Outcome of counting one request against a quota window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: float

    def limit_header(self) -> str:
        # The form seen on Pinterest responses: "<limit>, <limit>;w=<window seconds>".
        return f"{self.limit}, {self.limit};w={self.window_seconds:g}"


class RateLimiter:
    """Fixed windows per (caller, category), started by the caller's first request.

    Times are seconds on the emulator clock, so moving `/_emulator/clock` forward opens a new
    window without sleeping. Not locked: the emulator serves from one event loop and nothing
    here awaits.
    """

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._windows: dict[tuple[str, str], list[float]] = {}  # key -> [start, count]

    def reset(self) -> None:
        self._windows.clear()

    def check(self, caller: str, category: str, now: float) -> Quota | None:
        """Count a request; None when neither its category nor the universal cap applies.

        Refused requests do not use up quota. The universal cap is checked first because
        it is the shorter window."""
        universal = self.config.universal_per_second if self.config.enabled else None
        if universal is not None:
            quota = self._count((caller, "*"), universal, 1.0, now)
            if not quota.allowed:
                return quota
        limit = self.config.limit_for(category)
        if limit is None:
            return None
        return self._count((caller, category), limit, self.config.window_seconds, now)

    def _count(self, key: tuple[str, str], limit: int, window: float, now: float) -> Quota:
        slot = self._windows.get(key)
        if slot is None or not slot[0] <= now < slot[0] + window:
            slot = [now, 0]
            self._windows[key] = slot
        reset = max(1, math.ceil(slot[0] + window - now))
        if slot[1] >= limit:
            return Quota(False, limit, 0, reset, window)
        slot[1] += 1
        return Quota(True, limit, int(limit - slot[1]), reset, window)


class FaultDrawer:
    """The seeded sequence of fault decisions of one FaultConfig."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._bands = config.response_fault_bands()
        self._any_response_fault = self._bands[-1][1] > 0
        self.active = config.active
        self.targeted_requests = 0
        self.revoked = False
        self._reports_to_fail = config.failed_reports
        self._lock = threading.Lock()

    def report_fails(self, key: str) -> bool:
        """Whether the report finishing now ends FAILED: one of the next `failed_reports`,
        or drawn by `report_failure_probability` (deterministic per key)."""
        with self._lock:
            if self._reports_to_fail > 0:
                self._reports_to_fail -= 1
                return True
        return self.config.report_fails(key)

    def draw(self) -> str | None:
        """Count one targeted request; the response fault it gets, if any."""
        self.targeted_requests += 1
        if not self._any_response_fault:
            return None
        value = self._random.random()
        for kind, upper in self._bands:
            if value < upper:
                return kind
        return None

    def revocation_due(self) -> bool:
        """True once, for the first request (with a token) past the revocation threshold."""
        after = self.config.revoke_tokens_after_requests
        return not self.revoked and after is not None and self.targeted_requests > after


class Guards:
    """Quotas, faults and counters of one emulator instance (`app.state.guards`)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.limiter = RateLimiter(state.config.rate_limits)
        self._drawer = FaultDrawer(state.config.faults)
        self._rid_prefix = secrets.token_hex(4)
        self._rid_counter = 0
        self.operations: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()

    @property
    def faults(self) -> FaultConfig:
        """The fault configuration in force (the config's until `set_faults`)."""
        return self._drawer.config

    def report_fails(self, key: str) -> bool:
        """Whether the async report finishing now ends FAILED (see FaultDrawer)."""
        return self._drawer.report_fails(key)

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the faults; the draw sequence restarts from the new seed."""
        self._drawer = FaultDrawer(faults)

    def reset(self) -> None:
        """Back to the configuration's quotas and faults, counters cleared (`/_emulator/reset`)."""
        self.limiter = RateLimiter(self.state.config.rate_limits)
        self._drawer = FaultDrawer(self.state.config.faults)
        self.clear_counters()

    def clear_counters(self) -> None:
        for counter in (
            self.operations,
            self.categories,
            self.statuses,
            self.rate_limited,
            self.faults_injected,
        ):
            counter.clear()

    def snapshot(self) -> dict[str, Any]:
        """The body of `GET /_emulator/stats`."""
        return {
            "requests": sum(self.operations.values()),
            "operations": dict(self.operations),
            "categories": dict(self.categories),
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
            "rate_limited": sum(self.rate_limited.values()),
            "rate_limited_by_category": dict(self.rate_limited),
            "faults": {kind: self.faults_injected[kind] for kind in FAULT_KINDS},
        }

    def next_request_id(self) -> bytes:
        self._rid_counter += 1
        return f"{self._rid_prefix}{self._rid_counter:08x}".encode()

    def caller(self, token: str | None, client: tuple[str, int] | None) -> str:
        """Quota key: per user per app for a valid bearer token, else per client address."""
        if token is not None:
            info = self.state.identify(token)
            if info is not None:
                return f"user:{info.user_id}:app:{info.app_id}"
        return f"client:{client[0] if client else '?'}"

    def admit(self, operation: Operation, caller: str) -> Quota | None:
        quota = self.limiter.check(caller, operation.category, self.state.now().timestamp())
        if quota is not None and not quota.allowed:
            self.rate_limited[operation.category] += 1
        return quota

    def draw_fault(self, operation: Operation, token: str | None) -> str | None:
        """The response fault for this request (None = none); revokes the token when due."""
        drawer = self._drawer
        if not drawer.active or not drawer.config.targets(
            operation.operation_id, operation.category
        ):
            return None
        kind = drawer.draw()
        if token is not None and drawer.revocation_due():
            drawer.revoked = True
            if self.state.tokens.revoke(token):
                self.faults_injected["token_revoked"] += 1
        if drawer.config.latency_ms > 0:
            self.faults_injected["latency"] += 1
        if kind is not None:
            self.faults_injected[kind] += 1
        return kind
