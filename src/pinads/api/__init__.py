"""Pinterest API v5 client: OAuth, token refresh, rate budgets, retries, paging, reports.

`pinads.api` never imports `load`, `state`, `web` or `cli`; token persistence is the caller's,
through the `TokenSink` protocol.
"""

from pinads.api.client import ClientStats, PinterestClient, encode_params
from pinads.api.errors import error_from_response
from pinads.api.models import (
    PRODUCTION_API_URL,
    PRODUCTION_CONSENT_URL,
    SANDBOX_API_URL,
    OAuthApp,
    TokenSet,
    TokenSink,
    consent_base_url_for,
)
from pinads.api.oauth import consent_url, exchange_code, refresh_tokens, revoke_token
from pinads.api.ratelimit import (
    STANDARD_TIER,
    TRIAL_TIER,
    RateBudgets,
    RateLimit,
    RateLimits,
    SlidingWindowBudgets,
    category_for,
    shared_budgets,
)
from pinads.api.reports import ReportPolling, ReportResult, ReportStatus, run_report
from pinads.api.retry import RetryPolicy

__all__ = [
    "PRODUCTION_API_URL",
    "PRODUCTION_CONSENT_URL",
    "SANDBOX_API_URL",
    "STANDARD_TIER",
    "TRIAL_TIER",
    "ClientStats",
    "OAuthApp",
    "PinterestClient",
    "RateBudgets",
    "RateLimit",
    "RateLimits",
    "ReportPolling",
    "ReportResult",
    "ReportStatus",
    "RetryPolicy",
    "SlidingWindowBudgets",
    "TokenSet",
    "TokenSink",
    "category_for",
    "consent_base_url_for",
    "consent_url",
    "encode_params",
    "error_from_response",
    "exchange_code",
    "refresh_tokens",
    "revoke_token",
    "run_report",
    "shared_budgets",
]
