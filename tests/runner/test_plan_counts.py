"""Planned API calls equal the calls made, for entity lists longer than one page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import LARGE_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner.run import plan_source, run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .emu import make_client


@pytest.mark.parametrize("dataset", ["campaigns", "ad_groups"])
def test_large_account_lists_cost_what_was_planned(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
    dataset: str,
) -> None:
    """The large advertiser has 1,537 campaigns (7 pages of 250): the plan said 2 calls and
    the run made 8, because a list's pages were only known by reading it."""
    today = emulator_app.state.emulator.today()
    config, catalog = parse_config(
        {
            "name": "lists",
            "dataset": dataset,
            "authorizer": "demo",
            "accounts": [LARGE_ADVERTISER_ID],
            "destination": f"duckdb:///{tmp_path}/lists.duckdb",
        },
        today=today,
    )
    with make_client(emulator_transport, emulator_tokens) as client:
        before = client.stats.calls
        plan = plan_source(config, catalog, client, today=today)
        dry_run_calls = client.stats.calls - before
        destination = open_destination(config.destination, settings=load_settings())
        try:
            result = run_source(
                config, catalog, client=client, destination=destination, today=today
            )
        finally:
            destination.close()
    assert result.rows_written > 250  # more than one page
    assert result.api_calls > 2
    assert result.planned_calls == result.api_calls
    assert plan.api_calls == result.api_calls == dry_run_calls
    assert not result.planned_is_minimum
