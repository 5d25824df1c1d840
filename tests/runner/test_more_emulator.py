"""Hourly rows and entity lists listed per parent (keywords) against the emulator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .emu import ATTRIBUTION, campaign_ids, make_client, raw_get, source_doc

METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1"]


def test_hourly_rows_equal_the_emulator(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    start, end = today - timedelta(days=4), today - timedelta(days=1)
    config, dataset = parse_config(
        source_doc(
            tmp_path,
            granularity="HOUR",
            metrics=METRICS,
            attributes=["DATE", "HOUR", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
            date_range={"start": start, "end": end},
        ),
        today=today,
    )
    destination = open_destination(config.destination, settings=load_settings())
    with make_client(emulator_transport, emulator_tokens) as client:
        result = run_source(config, dataset, client=client, destination=destination, today=today)
    table = destination.read_table("shop").to_pylist()
    destination.close()
    assert result.steps == 2  # 4 days in windows of 3
    token = emulator_tokens.access_token
    ids = campaign_ids(emulator_transport, token)
    truth: dict[tuple[str, int, str], dict[str, Any]] = {}
    for window_start, window_end in ((start, start + timedelta(days=2)), (end, end)):
        rows = raw_get(
            emulator_transport,
            token,
            f"/ad_accounts/{EUR_ADVERTISER_ID}/campaigns/analytics",
            {
                "start_date": window_start.isoformat(),
                "end_date": window_end.isoformat(),
                "columns": ",".join(METRICS),
                "granularity": "HOUR",
                "campaign_ids": ids,
                **ATTRIBUTION,
            },
        )
        truth.update({(r["DATE"], int(r["HOUR"]), r["CAMPAIGN_ID"]): r for r in rows})
    assert len(table) == len(truth) > 0
    for row in table:
        want = truth[(row["date"].isoformat(), row["hour"], row["campaign_id"])]
        assert row["spend_in_micro_dollar"] == want.get("SPEND_IN_MICRO_DOLLAR")
        assert row["impression_1"] == want.get("IMPRESSION_1")


def test_keywords_are_listed_per_ad_group(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    config, dataset = parse_config(
        {
            "name": "kw",
            "dataset": "keywords",
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "destination": f"duckdb:///{tmp_path}/kw.duckdb",
        },
        today=today,
    )
    destination = open_destination(config.destination, settings=load_settings())
    with make_client(emulator_transport, emulator_tokens) as client:
        result = run_source(config, dataset, client=client, destination=destination, today=today)
    table = destination.read_table("kw").to_pylist()
    destination.close()
    token = emulator_tokens.access_token
    groups = raw_get(
        emulator_transport,
        token,
        f"/ad_accounts/{EUR_ADVERTISER_ID}/ad_groups",
        {"page_size": 250, "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"]},
    )["items"]
    expected: set[str] = set()
    for group in groups:
        page = raw_get(
            emulator_transport,
            token,
            f"/ad_accounts/{EUR_ADVERTISER_ID}/keywords",
            {"page_size": 250, "ad_group_id": group["id"]},
        )
        expected |= {item["id"] for item in page["items"]}
    assert {row["id"] for row in table} == expected and len(table) == len(expected) > 0
    assert result.rows_written == len(expected)
