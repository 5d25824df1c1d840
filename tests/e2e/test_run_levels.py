"""End to end against the emulator (in-process ASGI): every analytics level and a targeting
breakdown land in DuckDB with exactly the emulator's numbers; a rerun changes nothing; the API
calls equal the planner's count and the lower bound for the case."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from pinads.api import OAuthApp, PinterestClient, TokenSet
from pinads.catalog import get_dataset
from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

API_URL = "http://emulator.test/v5"
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "TOTAL_CONVERSIONS"]
DAYS = 20
DROP = ["_pinads_extracted_at", "_pinads_run_id"]


class _Sink:
    def save(self, tokens: TokenSet) -> None:
        return None


def tokens_of(issued: IssuedTokens) -> TokenSet:
    return TokenSet(
        access_token=SecretStr(issued.access_token),
        access_expires_at=issued.access_expires_at,
        refresh_token=SecretStr(issued.refresh_token),
        refresh_expires_at=issued.refresh_expires_at,
        scopes=tuple(sorted(issued.scopes)),
    )


@pytest.fixture
def client(
    emulator_transport: httpx.BaseTransport, emulator_tokens: IssuedTokens
) -> PinterestClient:
    app = OAuthApp(
        client_id=DEMO_CLIENT_ID, client_secret=SecretStr(DEMO_CLIENT_SECRET), api_url=API_URL
    )
    return PinterestClient(app, tokens_of(emulator_tokens), _Sink(), transport=emulator_transport)


def _raw(transport: httpx.BaseTransport, token: str, path: str, params: dict[str, Any]) -> Any:
    """The emulator's answer, read without pinads' client (independent of the code under test)."""
    with httpx.Client(transport=transport, base_url=API_URL) as http:
        response = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def _list_ids(transport: httpx.BaseTransport, token: str, path: str, **query: str) -> list[str]:
    ids: list[str] = []
    params: dict[str, Any] = {
        "page_size": 250,
        "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"],
        **query,
    }
    while True:
        page = _raw(transport, token, path, params)
        ids += [item["id"] for item in page["items"]]
        if not page.get("bookmark"):
            return ids
        params["bookmark"] = page["bookmark"]


def _pages(count: int) -> int:
    return max(1, math.ceil(count / 250))


def _entity_ids(transport: httpx.BaseTransport, token: str, entity: str) -> tuple[list[str], int]:
    """The ids the analytics calls take, and the fewest list calls that find them: product
    group promotions are listed per ad group, the other entities in one paginated list."""
    path = f"/ad_accounts/{EUR_ADVERTISER_ID}"
    if entity != "product_group_promotions":
        ids = _list_ids(transport, token, f"{path}/{entity}")
        return ids, _pages(len(ids))
    groups = _list_ids(transport, token, f"{path}/ad_groups")
    ids, calls = [], _pages(len(groups))
    for group in groups:
        found = _list_ids(transport, token, f"{path}/product_group_promotions", ad_group_id=group)
        ids += found
        calls += _pages(len(found))
    return ids, calls


@dataclass(frozen=True)
class Case:
    dataset: str
    attributes: tuple[str, ...]
    entity: str | None = None  # entity list whose ids the sync endpoint takes
    # The emulator splits a breakdown's numbers per day and per range separately (rounding,
    # conversions booked per range), so for breakdowns only the per-day rows are compared.
    additive: bool = True


CASES = [
    Case("ad_account_analytics", ("DATE", "AD_ACCOUNT_ID")),
    Case(
        "campaign_analytics", ("DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"), "campaigns"
    ),
    Case(
        "ad_group_analytics", ("DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID", "AD_GROUP_NAME"), "ad_groups"
    ),
    Case("ad_analytics", ("DATE", "AD_ACCOUNT_ID", "AD_ID", "AD_NAME"), "ads"),
    Case(
        "product_group_analytics",
        ("DATE", "AD_ACCOUNT_ID", "PRODUCT_GROUP_ID"),
        "product_group_promotions",
    ),
    Case(
        "campaign_by_age_bucket",
        ("DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "TARGETING_TYPE", "TARGETING_VALUE"),
        "campaigns",
        additive=False,
    ),
]
_KEY_COLUMNS = {
    "date",
    "product_group_id",
    "ad_account_id",
    "campaign_id",
    "ad_group_id",
    "ad_id",
    "targeting_type",
    "targeting_value",
}


@dataclass
class Emulator:
    transport: httpx.BaseTransport
    token: str
    today: date


@pytest.fixture
def emulator(
    emulator_app: Starlette, emulator_transport: httpx.BaseTransport, emulator_tokens: IssuedTokens
) -> Emulator:
    return Emulator(
        emulator_transport, emulator_tokens.access_token, emulator_app.state.emulator.today()
    )


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {**row.get("metrics", {}), **{k: v for k, v in row.items() if k != "metrics"}}


def _rows(payload: Any) -> list[dict[str, Any]]:
    rows = payload["data"] if isinstance(payload, dict) else payload
    return [_flat(row) for row in rows]


def _expected(
    emu: Emulator, case: Case, ids: list[str], start: date, end: date
) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[tuple[Any, ...], dict[str, int]]]:
    """Per-day rows and per-entity TOTAL rows, straight from the emulator's API."""
    sync = get_dataset(case.dataset).sync
    assert sync is not None
    path = sync.path.format(ad_account_id=EUR_ADVERTISER_ID)
    params: dict[str, Any] = {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "columns": ",".join(METRICS),
        "click_window_days": 30,
        "engagement_window_days": 30,
        "view_window_days": 1,
        "conversion_report_time": "TIME_OF_AD_ACTION",
    }
    if sync.targeting_type:
        params["targeting_types"] = sync.targeting_type
    id_key = sync.row_id_key if sync.id_param else None
    days: dict[tuple[Any, ...], dict[str, Any]] = {}
    totals: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    batches = [ids[i : i + 250] for i in range(0, len(ids), 250)] if sync.id_param else [[]]
    for batch in batches:
        query = {**params, **({sync.id_param: batch} if sync.id_param else {})}
        for row in _rows(_raw(emu.transport, emu.token, path, {**query, "granularity": "DAY"})):
            days[(row["DATE"], row.get(id_key) if id_key else None, row.get("targeting_value"))] = (
                row
            )
        for row in _rows(_raw(emu.transport, emu.token, path, {**query, "granularity": "TOTAL"})):
            key = (row.get(id_key) if id_key else None, row.get("targeting_value"))
            for metric in METRICS:
                totals[key][metric] += int(row.get(metric) or 0)
    return days, {k: dict(v) for k, v in totals.items()}


def _sorted(table: Any) -> Any:
    keys = [c for c in table.column_names if c in _KEY_COLUMNS]
    return table.sort_by([(c, "ascending") for c in keys])


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
def test_level_equals_emulator_exactly(
    case: Case, client: PinterestClient, emulator: Emulator, tmp_path: Path
) -> None:
    start, end = emulator.today - timedelta(days=DAYS), emulator.today - timedelta(days=1)
    config, dataset = parse_config(
        {
            "name": "e2e",
            "dataset": case.dataset,
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "attributes": list(case.attributes),
            "metrics": METRICS,
            "date_range": {"start": start, "end": end},
            "destination": f"duckdb:///{tmp_path}/e2e.duckdb",
        },
        today=emulator.today,
    )
    destination = open_destination(config.destination, settings=load_settings())
    with client:
        first = run_source(
            config, dataset, client=client, destination=destination, today=emulator.today
        )
        table = destination.read_table("e2e")
        second = run_source(
            config, dataset, client=client, destination=destination, today=emulator.today
        )
        again = destination.read_table("e2e")
    destination.close()

    ids, pages = (
        _entity_ids(emulator.transport, emulator.token, case.entity) if case.entity else ([], 0)
    )
    # Lower bound: the account list, the entity lists' pages, one call per 250 ids (< 90 days).
    batches = math.ceil(len(ids) / 250) if case.entity else 1
    assert len(ids) > 0 or not case.entity
    assert first.api_calls == first.planned_calls == 1 + pages + batches
    assert second.api_calls == first.api_calls

    days, totals = _expected(emulator, case, ids, start, end)
    sync = dataset.sync
    assert sync is not None
    id_col = sync.row_id_key.lower() if sync.id_param else None
    got = table.to_pylist()
    assert len(got) == len(days) > 0
    sums: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in got:
        key = (row["date"].isoformat(), row[id_col] if id_col else None, row.get("targeting_value"))
        for metric in METRICS:
            want = days[key].get(metric)
            assert row[metric.lower()] == (None if want is None else int(want)), (key, metric)
            sums[key[1:]][metric] += row[metric.lower()] or 0
    if case.additive:
        assert {k: dict(v) for k, v in sums.items()} == totals
    assert _sorted(again.drop_columns(DROP)).equals(_sorted(table.drop_columns(DROP)))


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
def test_total_granularity_equals_emulator_total(
    case: Case, client: PinterestClient, emulator: Emulator, tmp_path: Path
) -> None:
    """The same source at granularity TOTAL holds exactly the emulator's own TOTAL for the
    range (for breakdowns too, whose totals are not the sum of their days)."""
    start, end = emulator.today - timedelta(days=DAYS), emulator.today - timedelta(days=1)
    config, dataset = parse_config(
        {
            "name": "e2e_total",
            "dataset": case.dataset,
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "attributes": [a for a in case.attributes if a != "DATE"],
            "metrics": METRICS,
            "granularity": "TOTAL",
            "date_range": {"start": start, "end": end},
            "destination": f"duckdb:///{tmp_path}/e2e.duckdb",
        },
        today=emulator.today,
    )
    destination = open_destination(config.destination, settings=load_settings())
    with client:
        run = run_source(
            config, dataset, client=client, destination=destination, today=emulator.today
        )
        table = destination.read_table("e2e_total")
    destination.close()
    assert run.api_calls == run.planned_calls
    ids = _entity_ids(emulator.transport, emulator.token, case.entity)[0] if case.entity else []
    _, totals = _expected(emulator, case, ids, start, end)
    sync = dataset.sync
    assert sync is not None
    id_col = sync.row_id_key.lower() if sync.id_param else None
    got: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in table.to_pylist():
        assert (row["_pinads_range_start"], row["_pinads_range_end"]) == (start, end)
        key = (row[id_col] if id_col else None, row.get("targeting_value"))
        got[key] = {metric: row[metric.lower()] or 0 for metric in METRICS}
    assert got == totals and len(got) > 0
