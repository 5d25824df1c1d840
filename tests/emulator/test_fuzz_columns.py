"""Column sweep: every analytics operation answers every column of its spec enum, alone and all
at once, with a 200 whose body matches the response schema (random fuzzing rarely lands on a
valid date range, real ids and one particular column together)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import LARGE_ADVERTISER_ID, EmulatorConfig, InProcessTransport
from pinads.emulator.limits import RateLimitConfig
from pinads.emulator.spec import enum_of, operation, param_max_items

from .conftest import TODAY
from .schema import assert_response_matches_spec

FLAT = (
    "ad_account/analytics",
    "campaigns/analytics",
    "ad_groups/analytics",
    "ads/analytics",
    "product_groups/analytics",
)
TARGETING = (
    "ad_account_targeting_analytics/get",
    "campaign_targeting_analytics/get",
    "ad_groups_targeting_analytics/get",
    "ad_targeting_analytics/get",
)
START, END = TODAY - timedelta(days=3), TODAY - timedelta(days=1)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, today=TODAY, rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def http(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator_transport, base_url="http://emulator.test") as client:
        yield client


def _id_params(app: Starlette, op_id: str) -> list[tuple[str, str]]:
    """The ids parameter an operation requires, filled with ids of the large advertiser."""
    world = app.state.emulator.world
    account = LARGE_ADVERTISER_ID
    names = {p["name"] for p in operation(op_id)["parameters"] if p.get("required")}
    ads = world.ads_by_account[account][:3]
    sources = {
        "campaign_ids": world.campaigns_by_account[account][:3],
        "ad_group_ids": world.ad_groups_by_account[account][:3],
        "ad_ids": ads,
        "product_group_ids": [
            pg for pg, ad in world.product_groups.items() if world.ads[ad].account_id == account
        ][:3],
    }
    params = [(name, value) for name in sorted(names & set(sources)) for value in sources[name]]
    if op_id == "ads/analytics":
        params += [("ad_ids", ad_id) for ad_id in ads]
    return params


def _get(http: httpx.Client, app: Starlette, op_id: str, columns: list[str]) -> httpx.Response:
    params = [
        ("start_date", START.isoformat()),
        ("end_date", END.isoformat()),
        ("granularity", "DAY"),
        ("columns", ",".join(columns)),
        *_id_params(app, op_id),
    ]
    if op_id in TARGETING:
        # As many targeting types as the spec allows in one request (maxItems).
        types = sorted(enum_of(op_id, "targeting_types"))
        limit = param_max_items(op_id, "targeting_types") or len(types)
        params.append(("targeting_types", ",".join(types[:limit])))
    path = "/v5" + operation(op_id)["path"].replace("{ad_account_id}", LARGE_ADVERTISER_ID)
    return http.get(path, params=params)


@pytest.mark.parametrize("op_id", FLAT + TARGETING)
def test_every_column_alone_and_all_together(
    http: httpx.Client, emulator_app: Starlette, emulator_tokens: object, op_id: str
) -> None:
    token = emulator_tokens.access_token  # type: ignore[attr-defined]
    http.headers["Authorization"] = f"Bearer {token}"
    columns = sorted(enum_of(op_id, "columns"))
    assert len(columns) > 100
    failures = []
    for column in columns:
        try:
            response = _get(http, emulator_app, op_id, [column])
        except Exception as exc:  # noqa: BLE001 - in-process, a handler crash surfaces here
            failures.append(f"{column}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code != 200:
            failures.append(f"{column}: HTTP {response.status_code} {response.text[:120]}")
            continue
        assert_response_matches_spec(response)
    assert not failures, f"{op_id}: {len(failures)} columns fail:\n" + "\n".join(failures[:10])
    together = _get(http, emulator_app, op_id, columns)
    assert together.status_code == 200, together.text[:300]
    assert_response_matches_spec(together)
    assert together.json(), "three days of the large advertiser have data"
