"""Helpers for runner tests against the in-process emulator (fixtures from tests/conftest.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from pinads.api import OAuthApp, PinterestClient, ReportPolling, TokenSet
from pinads.api.retry import Sleep
from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens

API_URL = "http://emulator.test/v5"
FAST_POLLING = ReportPolling(first_delay_seconds=0.001, max_delay_seconds=0.01)
ATTRIBUTION = {
    "click_window_days": 30,
    "engagement_window_days": 30,
    "view_window_days": 1,
    "conversion_report_time": "TIME_OF_AD_ACTION",
}


class NullSink:
    def save(self, tokens: TokenSet) -> None:
        return None


def make_client(
    transport: httpx.BaseTransport, issued: IssuedTokens, *, sleep: Sleep = time.sleep
) -> PinterestClient:
    app = OAuthApp(
        client_id=DEMO_CLIENT_ID, client_secret=SecretStr(DEMO_CLIENT_SECRET), api_url=API_URL
    )
    tokens = TokenSet(
        access_token=SecretStr(issued.access_token),
        access_expires_at=issued.access_expires_at,
        refresh_token=SecretStr(issued.refresh_token),
        refresh_expires_at=issued.refresh_expires_at,
        scopes=tuple(sorted(issued.scopes)),
    )
    return PinterestClient(app, tokens, NullSink(), transport=transport, sleep=sleep)


def raw_get(transport: httpx.BaseTransport, token: str, path: str, params: dict[str, Any]) -> Any:
    """The emulator's answer read without pinads' client."""
    with httpx.Client(transport=transport, base_url=API_URL) as http:
        response = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def campaign_days(
    transport: httpx.BaseTransport,
    token: str,
    *,
    ids: list[str],
    start: str,
    end: str,
    metrics: list[str],
) -> dict[tuple[str, str], dict[str, Any]]:
    """(date, campaign id) -> the emulator's DAY row for the EUR advertiser's campaigns."""
    rows = raw_get(
        transport,
        token,
        f"/ad_accounts/{EUR_ADVERTISER_ID}/campaigns/analytics",
        {
            "start_date": start,
            "end_date": end,
            "columns": ",".join(metrics),
            "granularity": "DAY",
            "campaign_ids": ids,
            **ATTRIBUTION,
        },
    )
    return {(row["DATE"], str(row["CAMPAIGN_ID"])): row for row in rows}


def campaign_ids(transport: httpx.BaseTransport, token: str) -> list[str]:
    page = raw_get(
        transport,
        token,
        f"/ad_accounts/{EUR_ADVERTISER_ID}/campaigns",
        {"page_size": 250, "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"]},
    )
    return [item["id"] for item in page["items"]]


def source_doc(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"],
        "destination": f"duckdb:///{tmp_path}/shop.duckdb",
        **extra,
    }
