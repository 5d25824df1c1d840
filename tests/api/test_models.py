"""Boundary models, consent URLs, token answers, retry policy bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr, ValidationError

from pinads.api import (
    PRODUCTION_API_URL,
    SANDBOX_API_URL,
    OAuthApp,
    RetryPolicy,
    consent_base_url_for,
    consent_url,
    encode_params,
)
from pinads.api.models import token_set_from_response
from pinads.api.retry import Retrier
from pinads.errors import ExtractError, FatalApiError, RateLimitedError, RetriableApiError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_consent_base_urls() -> None:
    assert consent_base_url_for(PRODUCTION_API_URL) == "https://www.pinterest.com/oauth/"
    assert consent_base_url_for(SANDBOX_API_URL) == "https://www.pinterest.com/oauth/"
    assert consent_base_url_for("http://127.0.0.1:8765/v5") == "http://127.0.0.1:8765/oauth/"


def test_consent_url_has_comma_separated_scopes_and_state() -> None:
    app = OAuthApp(client_id="cid", client_secret=SecretStr("s3cret"), api_url=PRODUCTION_API_URL)
    url = consent_url(
        app,
        redirect_uri="http://127.0.0.1:5000/callback",
        scopes=("ads:read", "user_accounts:read"),
        state="xyz",
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.pinterest.com/oauth/"
    assert query == {
        "client_id": ["cid"],
        "redirect_uri": ["http://127.0.0.1:5000/callback"],
        "response_type": ["code"],
        "scope": ["ads:read,user_accounts:read"],
        "state": ["xyz"],
    }
    assert "s3cret" not in url


def test_oauth_app_validates_url_and_hides_secret() -> None:
    app = OAuthApp(client_id="c", client_secret=SecretStr("topsecret"), api_url="http://x/v5/")
    assert app.api_url == "http://x/v5"
    assert "topsecret" not in repr(app)
    with pytest.raises(ValidationError):
        OAuthApp(client_id="c", client_secret=SecretStr("s"), api_url="ftp://x")


def test_token_answer_parsing() -> None:
    payload = {
        "access_token": "pina_access",
        "expires_in": 2592000,
        "refresh_token": "pinr_refresh",
        "refresh_token_expires_at": int((NOW + timedelta(days=60)).timestamp()),
        "scope": "ads:read,user_accounts:read",
        "token_type": "bearer",
    }
    tokens = token_set_from_response(payload, now=NOW)
    assert tokens.access_expires_at == NOW + timedelta(days=30)
    assert tokens.refresh_expires_at == NOW + timedelta(days=60)
    assert tokens.scopes == ("ads:read", "user_accounts:read")
    assert "pina_access" not in repr(tokens)
    kept = token_set_from_response(
        {"access_token": "a", "expires_in": 10, "scope": "ads:read"},
        now=NOW,
        previous_refresh_token=SecretStr("old"),
    )
    assert kept.refresh_token.get_secret_value() == "old"
    with pytest.raises(ExtractError):
        token_set_from_response({"expires_in": 10}, now=NOW)


def test_param_encoding_follows_spec_styles() -> None:
    encoded = encode_params(
        {
            "campaign_ids": ["1", "2"],
            "entity_statuses": ("ACTIVE", "PAUSED"),
            "columns": ["SPEND_IN_DOLLAR", "TOTAL_CLICKTHROUGH"],
            "targeting_types": ["AGE_BUCKET", "GENDER"],
            "include_shared_accounts": True,
            "start_date": datetime(2026, 1, 2, tzinfo=UTC).date(),
            "bookmark": None,
        }
    )
    assert encoded.get_list("campaign_ids") == ["1", "2"]
    assert encoded.get_list("entity_statuses") == ["ACTIVE", "PAUSED"]
    assert encoded.get_list("columns") == ["SPEND_IN_DOLLAR,TOTAL_CLICKTHROUGH"]
    assert encoded.get_list("targeting_types") == ["AGE_BUCKET,GENDER"]
    assert encoded["include_shared_accounts"] == "true"
    assert encoded["start_date"] == "2026-01-02"
    assert "bookmark" not in encoded


def test_retrier_bounds_attempts_and_uses_hint() -> None:
    sleeps: list[float] = []
    calls = 0

    def always_throttled() -> None:
        nonlocal calls
        calls += 1
        raise RateLimitedError("slow down", retry_after_seconds=2.0)

    retrier = Retrier(RetryPolicy(max_attempts=4), sleep=sleeps.append, rng=random.Random(1))
    with pytest.raises(RateLimitedError, match="gave up after 4 attempt"):
        retrier.call(always_throttled)
    assert calls == 4
    assert len(sleeps) == 3
    assert all(2.0 <= s <= 2.2 for s in sleeps)


def test_retrier_total_wait_bound_and_fatal_not_retried() -> None:
    sleeps: list[float] = []
    retrier = Retrier(
        RetryPolicy(max_attempts=50, max_total_wait_seconds=10.0), sleep=sleeps.append
    )

    def failing() -> None:
        raise RetriableApiError("boom", status=503)

    with pytest.raises(RetriableApiError, match="retry time budget"):
        retrier.call(failing)
    assert sum(sleeps) <= 10.0
    calls = 0

    def fatal() -> None:
        nonlocal calls
        calls += 1
        raise FatalApiError("bad request", status=400)

    with pytest.raises(FatalApiError):
        retrier.call(fatal)
    assert calls == 1


def test_backoff_grows_with_jitter() -> None:
    policy = RetryPolicy(base_backoff_seconds=1.0, max_backoff_seconds=8.0)
    rng = random.Random(7)
    waits = [policy.backoff_seconds(attempt, rng) for attempt in range(1, 7)]
    for attempt, wait in enumerate(waits, start=1):
        step = min(8.0, 2.0 ** (attempt - 1))
        assert step / 2 <= wait <= step
