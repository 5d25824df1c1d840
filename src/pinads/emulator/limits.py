"""Rate-limit and fault-injection settings of the emulator (frozen; part of `EmulatorConfig`).

Rate limits follow Pinterest's published Standard-tier numbers: requests per minute per user
per app, one quota per `x-ratelimit-category` of the OpenAPI description. Tests scale them down
with `window_seconds` (e.g. 20 requests per 1-second window).

Faults are drawn from a seeded generator, one draw per targeted request, so the same seed and
the same request sequence give the same faults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FAULT_KINDS",
    "STANDARD_TIER_PER_MINUTE",
    "FaultConfig",
    "RateLimitConfig",
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
