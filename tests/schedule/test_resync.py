"""Attribution re-sync through the scheduler: a source without `lookback_days` re-reads its
largest attribution window (30 days by default) at every scheduled run, so conversions that
arrive late are corrected and every day matches Pinterest's (the emulator's) latest numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from pinads.api import PinterestClient
from pinads.cli.schedule_cmd import run_due
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner import SourceStore, service
from pinads.schedule import OutcomeStatus, next_run_after, parse_schedule, utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state.schema import SOURCES

Opener = Callable[[str], PinterestClient]
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"]


def _emulator_days(
    transport: httpx.BaseTransport, token: str, *, start: str, end: str
) -> dict[tuple[str, str], Any]:
    """(date, campaign id) -> TOTAL_CONVERSIONS, read from the emulator without pinads."""
    with httpx.Client(transport=transport, base_url="http://emulator.test/v5") as http:
        headers = {"Authorization": f"Bearer {token}"}
        base = f"/ad_accounts/{EUR_ADVERTISER_ID}"
        campaigns = http.get(
            f"{base}/campaigns",
            params={"page_size": 250, "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"]},
            headers=headers,
        ).json()["items"]
        rows = http.get(
            f"{base}/campaigns/analytics",
            params={
                "start_date": start,
                "end_date": end,
                "columns": ",".join(METRICS),
                "granularity": "DAY",
                "campaign_ids": [c["id"] for c in campaigns],
                "click_window_days": 30,
                "engagement_window_days": 30,
                "view_window_days": 1,
                "conversion_report_time": "TIME_OF_AD_ACTION",
            },
            headers=headers,
        ).json()
    return {(r["DATE"], str(r["CAMPAIGN_ID"])): r.get("TOTAL_CONVERSIONS") for r in rows}


def _table(tmp_path: Path) -> dict[tuple[str, str], Any]:
    destination = open_destination(f"duckdb:///{tmp_path}/shop.duckdb", settings=load_settings())
    try:
        rows = destination.read_table("shop").to_pylist()
    finally:
        destination.close()
    return {(r["date"].isoformat(), r["campaign_id"]): r["total_conversions"] for r in rows}


def test_scheduled_runs_re_read_the_largest_attribution_window_by_default(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    emulator_opener: Opener,
    tmp_path: Path,
) -> None:
    config = SourceConfig.model_validate(
        {
            "name": "shop",
            "dataset": "campaign_analytics",
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
            "metrics": METRICS,
            "date_range": "last_7_days",
            "schedule": "daily 06:00",
            "destination": f"duckdb:///{tmp_path}/shop.duckdb",
        }
    )
    assert config.lookback_days is None and config.effective_lookback_days == 30
    store = SourceStore(load_settings())
    try:
        store.save(config)
        with store.db.engine.begin() as conn:  # saved two days ago: today's slot is due
            conn.execute(SOURCES.update().values(created_at=utc_now() - timedelta(days=2)))
    finally:
        store.close()
    settings = load_settings()
    today = datetime.now(UTC).date()
    window = (str(today - timedelta(days=30)), str(today - timedelta(days=1)))

    [first] = run_due(settings, opener=emulator_opener)
    assert first.status is OutcomeStatus.OK
    before = _table(tmp_path)
    assert {day for day, _ in before} == {
        str(today - timedelta(days=n)) for n in range(1, 31)
    }  # last_7_days stretched back over the 30-day click window

    emulator_app.state.emulator.advance(days=3)  # conversions keep arriving for past clicks
    later = next_run_after(parse_schedule("daily 06:00"), utc_now(), source_name="shop")
    assert later is not None
    [second] = run_due(settings, opener=emulator_opener, now=later + timedelta(minutes=1))
    assert second.status is OutcomeStatus.OK
    after = _table(tmp_path)

    truth = _emulator_days(
        emulator_transport, emulator_tokens.access_token, start=window[0], end=window[1]
    )
    assert after == {key: None if v is None else int(v) for key, v in truth.items()}
    assert sum(after[key] != before.get(key) for key in after) > 0  # late ones corrected
    runs = service.list_runs("shop")
    assert [(r.kind, str(r.range_start), str(r.range_end)) for r in runs] == [
        ("scheduled", *window),
        ("scheduled", *window),
    ]
