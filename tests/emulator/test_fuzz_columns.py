"""Column sweep: every analytics operation answers every column of its spec enum, alone and all
at once, with a 200 whose body matches the response schema (random fuzzing rarely lands on a
valid date range, real ids and one particular column together)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID, EmulatorConfig, InProcessTransport
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
START, END = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
# A small advertiser (66 ads, EUR) keeps ~1,700 requests quick; it has product groups too.
ACCOUNT = EUR_ADVERTISER_ID


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, today=TODAY, rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def http(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator_transport, base_url="http://emulator.test") as client:
        yield client


def _id_params(app: Starlette, op_id: str) -> list[tuple[str, str]]:
    """The ids parameter an operation requires, filled with ids of the advertiser."""
    world = app.state.emulator.world
    names = {p["name"] for p in operation(op_id)["parameters"] if p.get("required")}
    # Ads running through the whole window, and their parents, so the answers have rows.
    live = [
        world.ads[ad_id]
        for ad_id in world.ads_by_account[ACCOUNT]
        if world.ads[ad_id].start_day <= START.toordinal()
        and (world.ads[ad_id].end_day or END.toordinal()) >= END.toordinal()
    ]
    ads = [ad.id for ad in live[:3]]
    sources = {
        "campaign_ids": list(dict.fromkeys(ad.campaign_id for ad in live))[:3],
        "ad_group_ids": list(dict.fromkeys(ad.ad_group_id for ad in live))[:3],
        "ad_ids": ads,
        "product_group_ids": [ad.product_group_id for ad in live if ad.product_group_id][:3],
    }
    params = [(name, value) for name in sorted(names & set(sources)) for value in sources[name]]
    if op_id == "ads/analytics":
        params += [("ad_ids", ad_id) for ad_id in ads]
    return params


def _get(
    http: httpx.Client, app: Starlette, op_id: str, columns: list[str], *, all_types: bool = False
) -> httpx.Response:
    params = [
        ("start_date", START.isoformat()),
        ("end_date", END.isoformat()),
        ("granularity", "DAY"),
        ("columns", ",".join(columns)),
        *_id_params(app, op_id),
    ]
    if op_id in TARGETING:
        # One type per column alone (speed); as many as the spec allows (maxItems) at once.
        types = sorted(enum_of(op_id, "targeting_types"))
        limit = (param_max_items(op_id, "targeting_types") or len(types)) if all_types else 1
        params.append(("targeting_types", ",".join(types[:limit])))
    path = "/v5" + operation(op_id)["path"].replace("{ad_account_id}", ACCOUNT)
    return http.get(path, params=tuple(params))


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
    together = _get(http, emulator_app, op_id, columns, all_types=True)
    assert together.status_code == 200, together.text[:300]
    assert_response_matches_spec(together)
    assert together.json(), "two days of the advertiser have data"
