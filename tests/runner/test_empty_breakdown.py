"""An empty breakdown is told apart from accounts without delivery, in Test Data and in a
run's "No data retrieved"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import ExtractError
from pinads.load import open_destination
from pinads.runner.preview import Diagnosis, preview_source
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import DateRange

from .emu import make_client


def _config(tmp_path: Path, today: Any) -> Any:
    # The emulator's campaigns use no audience multiplier: that breakdown has no rows,
    # though the EUR advertiser delivers every day.
    return parse_config(
        {
            "name": "multiplier",
            "dataset": "campaign_by_audience_multiplier",
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "date_range": {"start": today - timedelta(days=7), "end": today - timedelta(days=1)},
            "destination": f"duckdb:///{tmp_path}/m.duckdb",
        },
        today=today,
    )


def test_preview_says_the_accounts_delivered_but_the_breakdown_is_empty(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    config, _ = _config(tmp_path, today)
    with make_client(emulator_transport, emulator_tokens) as client:
        result = preview_source(config, client, today=today)
    assert result.diagnosis is Diagnosis.EMPTY_BREAKDOWN
    assert result.message.startswith("No data: the breakdown is empty: Pinterest returned no rows")
    assert "the accounts delivered (" in result.message
    assert "the audience multiplier breakdown has no rows for these days" in result.message
    assert "no delivery" not in result.message


def test_a_run_of_an_empty_breakdown_fails_with_the_true_reason(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    config, dataset = _config(tmp_path, today)
    destination = open_destination(config.destination, settings=load_settings())
    try:
        with (
            make_client(emulator_transport, emulator_tokens) as client,
            pytest.raises(ExtractError) as caught,
        ):
            run_source(
                config,
                dataset,
                client=client,
                destination=destination,
                today=today,
                period=DateRange(start=today - timedelta(days=7), end=today - timedelta(days=1)),
            )
    finally:
        destination.close()
    message = str(caught.value)
    assert message.startswith("No data retrieved: source 'multiplier' got no rows")
    assert "the accounts delivered (" in message and "no delivery" not in message
