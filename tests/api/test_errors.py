"""The (status, code) -> error table, wait hints, and that no secret reaches a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pinads.api import PinterestClient
from pinads.api.errors import error_from_response, retry_hint_seconds, safe_url
from pinads.emulator import EUR_ADVERTISER_ID, FINANCE_ONLY_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import (
    AccessDeniedError,
    ApiError,
    AuthError,
    FatalApiError,
    PinadsError,
    RateLimitedError,
    RetriableApiError,
)

from .conftest import RecordingSink, demo_app, token_set

URL = (
    "https://api.pinterest.com/v5/ad_accounts/549755885175/campaigns?access_token=pina_SECRETSECRET"
)


def _response(
    status: int, body: object = None, headers: dict[str, str] | None = None, content: bytes = b""
) -> httpx.Response:
    request = httpx.Request("GET", URL)
    if body is not None:
        return httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.Response(status, content=content, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "code", "kind", "fragment"),
    [
        (401, 2, AuthError, "re-authorize this authorizer"),
        (401, 3, AccessDeniedError, "scope"),
        (403, 29, AccessDeniedError, "ad account 549755885175"),
        (401, 29, AccessDeniedError, "Owner, Admin, Analyst or Campaign Manager"),
        (403, 2625, AccessDeniedError, "disapproved"),
        (400, 400, FatalApiError, "Invalid ad account campaign analytics parameters"),
        (400, 12, RetriableApiError, "transient"),
        (404, 2, FatalApiError, "exists"),
        (409, 4182, FatalApiError, "refused"),
        (429, 8, RateLimitedError, "rate limit"),
        (500, None, RetriableApiError, "server error"),
        (503, None, RetriableApiError, "HTTP 503"),
    ],
)
def test_error_table(status: int, code: int | None, kind: type[PinadsError], fragment: str) -> None:
    message = "Invalid ad account campaign analytics parameters." if code == 400 else "Something."
    body = {"code": code, "message": message} if code is not None else None
    response = _response(status, body, headers={"x-pinterest-rid": "rid-42"}, content=b"oops")
    error = error_from_response(response, ad_account_id="549755885175")
    assert type(error) is kind
    assert fragment in str(error)
    assert "rid-42" in str(error)
    assert "\n" not in str(error)
    if isinstance(error, ApiError):
        assert error.status == status
        assert error.code == code
        assert error.request_id == "rid-42"


def test_messages_never_carry_secrets_or_query_strings() -> None:
    body = {"code": 2, "message": "Authentication failed for Bearer pina_ABCDEFGHIJKLMNOP."}
    error = error_from_response(_response(401, body))
    text = str(error)
    assert "pina_ABCDEFGHIJKLMNOP" not in text
    assert "SECRETSECRET" not in text
    assert "access_token=" not in text
    assert "/v5/ad_accounts/549755885175/campaigns" in text


def test_retry_hints() -> None:
    assert retry_hint_seconds(_response(429, {}, {"x-ratelimit-reset": "7"}), "") == 7.0
    assert retry_hint_seconds(_response(429, {}, {"retry-after": "3"}), "") == 3.0
    hinted = _response(429, {"code": 2726, "message": "Retry after 2 seconds"})
    error = error_from_response(hinted)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_seconds == 2.0
    assert retry_hint_seconds(_response(429, {}), "no hint") is None


def test_throttling_400_is_a_rate_limit() -> None:
    error = error_from_response(_response(400, {"code": 1, "message": "Retry after 5 seconds"}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_seconds == 5.0
    assert error.status == 400


def test_non_json_error_body() -> None:
    error = error_from_response(_response(502, content=b"<html>Bad gateway</html>"))
    assert isinstance(error, RetriableApiError)
    assert "Bad gateway" in str(error)


def test_safe_url_drops_query() -> None:
    assert safe_url(URL) == "https://api.pinterest.com/v5/ad_accounts/549755885175/campaigns"
    # The port says which server was meant; user info (a password) never shows.
    assert safe_url("http://me:pw@127.0.0.1:8777/v5/x?token=t") == "http://127.0.0.1:8777/v5/x"
    assert safe_url("http://[::1]:8085/callback?code=c") == "http://[::1]:8085/callback"


def test_emulator_errors_map_through_the_table(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    day = datetime.now(UTC).date() - timedelta(days=1)
    params = {
        "start_date": day,
        "end_date": day,
        "columns": ["SPEND_IN_DOLLAR"],
        "granularity": "TOTAL",
    }
    with PinterestClient(
        demo_app(), token_set(emulator_tokens), RecordingSink(), transport=emulator_transport
    ) as client:
        with pytest.raises(AccessDeniedError) as denied:
            client.get_json(f"/ad_accounts/{FINANCE_ONLY_ADVERTISER_ID}/analytics", params)
        with pytest.raises(FatalApiError) as missing:
            client.get_json("/ad_accounts/123/analytics", params)
        too_old = {**params, "start_date": day - timedelta(days=200)}
        with pytest.raises(FatalApiError) as invalid:
            client.get_json(f"/ad_accounts/{EUR_ADVERTISER_ID}/analytics", too_old)
        assert client.stats.retries == 0
    assert f"ad account {FINANCE_ONLY_ADVERTISER_ID}" in str(denied.value)
    assert "Owner, Admin, Analyst or Campaign Manager" in str(denied.value)
    assert "request id" in str(denied.value)
    assert missing.value.status == 404
    assert missing.value.request_id
    assert invalid.value.status == 400
    assert "last 90 days" in str(invalid.value)
