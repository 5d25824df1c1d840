"""Configuration of one emulator instance (frozen; a test builds its own)."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from pinads.emulator.limits import FaultConfig, RateLimitConfig

__all__ = ["DEFAULT_REDIRECT_URI_PATTERN", "EmulatorConfig"]

# Registered redirect URIs of the demo app: any loopback HTTP URL (any port, any path).
DEFAULT_REDIRECT_URI_PATTERN = r"^http://(127\.0\.0\.1|localhost)(:\d{1,5})?(/.*)?$"


class EmulatorConfig(BaseModel):
    """How the emulator behaves. Defaults follow Pinterest's documented numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=7, description="Seed of the synthetic world and its metrics.")
    today: date | None = Field(
        default=None, description="The emulator's today (UTC); None = the real UTC date."
    )
    access_token_lifetime_days: float = Field(default=30, gt=0)
    refresh_token_lifetime_days: float = Field(default=60, gt=0)
    report_polls_until_finished: int = Field(
        default=2, ge=0, description="GET polls answered IN_PROGRESS before a report is FINISHED."
    )
    report_link_ttl_seconds: float = Field(default=300, gt=0, description="Download link life.")
    report_ttl_seconds: float = Field(default=3600, gt=0, description="Report life (EXPIRED).")
    auto_approve: bool = Field(
        default=False, description="Consent page approves at once as the default demo user."
    )
    redirect_uri_pattern: str = Field(
        default=DEFAULT_REDIRECT_URI_PATTERN,
        description="Regular expression a redirect_uri must match (the app's registered URIs).",
    )
    rate_limits: RateLimitConfig = Field(default_factory=RateLimitConfig)
    faults: FaultConfig = Field(default_factory=FaultConfig)

    def redirect_uri_allowed(self, uri: str) -> bool:
        return re.fullmatch(self.redirect_uri_pattern, uri) is not None
