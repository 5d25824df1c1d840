"""Pinterest API v5 client: OAuth, token refresh, rate budgets, retries, paging, reports.

    app = OAuthApp(client_id="...", client_secret=SecretStr("..."), api_url=PRODUCTION_API_URL)
    with PinterestClient(app, tokens, sink, budgets=shared_budgets(f"{user}:{app.client_id}")) as c:
        for campaign in c.iter_items(f"/ad_accounts/{account}/campaigns"):
            ...
        with run_report(c, account, body) as report:
            for row in report.rows():
                ...

- Tokens: refreshed before expiry and once on a 401 (code 2); every rotated token set goes to
  `sink.save()` before it is used (`TokenSink` must be durable).
- Pacing: a sliding-window budget per rate-limit category (`RateLimits`, Standard tier by
  default, `TRIAL_TIER` for trial apps) shared by all threads; `shared_budgets` shares it
  across clients of one user and app in the process.
- Failures: 429/5xx/timeouts/resets are retried within `RetryPolicy`; everything else maps to
  `pinads.errors` through one table (`pinads.api.errors.ERROR_TABLE`); messages never carry a
  token, secret or signed URL.

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
