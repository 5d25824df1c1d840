"""Breakdown codes read as names: a location breakdown gets TARGETING_VALUE_NAME from
Pinterest's targeting options, read once per process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pinads.api.targeting import clear_targeting_cache
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .emu import make_client


def test_location_codes_get_their_names(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    clear_targeting_cache()
    today = emulator_app.state.emulator.today()
    config, dataset = parse_config(
        {
            "name": "by_location",
            "dataset": "campaign_by_location",
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "date_range": {"start": today - timedelta(days=7), "end": today - timedelta(days=1)},
            "destination": f"duckdb:///{tmp_path}/loc.duckdb",
        },
        today=today,
    )
    guards = emulator_app.state.guards
    destination = open_destination(config.destination, settings=load_settings())
    try:
        with make_client(emulator_transport, emulator_tokens) as client:
            first = run_source(config, dataset, client=client, destination=destination, today=today)
            second = run_source(
                config, dataset, client=client, destination=destination, today=today
            )
        rows = destination.read_table("by_location").to_pylist()
    finally:
        destination.close()
    assert first.api_calls == first.planned_calls
    assert second.api_calls == second.planned_calls == first.api_calls - 1  # names cached
    assert guards.operations["targeting_options/get"] == 1
    names = {row["targeting_value"]: row["targeting_value_name"] for row in rows}
    assert names["501"] == "U.S.: New York"
    assert names["803"] == "U.S.: Los Angeles"
    assert names.get("OTHER") is None  # a value Pinterest has no option for stays unnamed
    columns = list(rows[0])
    assert columns.index("targeting_value_name") == columns.index("targeting_value") + 1
