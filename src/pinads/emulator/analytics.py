"""Synchronous analytics and targeting analytics (GET, category ads_analytics).

Every parameter is checked against the spec extract (column enums per endpoint, granularity,
windows, conversion_report_time, id counts) and against Pinterest's documented date limits:
start at most 90 days back and end at most 90 days after start; HOUR at most 8 days back and
3 days long.

Row keys: the level's id (`AD_ACCOUNT_ID`, `CAMPAIGN_ID`, ...), `DATE` (`YYYY-MM-DD`, UTC;
the first day of the week or month for WEEK and MONTH; absent for TOTAL) and the requested
columns, absent when empty. How Pinterest encodes the hour of HOUR rows is undocumented; the
emulator sends `DATE` plus an integer `HOUR` key (0-23, UTC) and, as Pinterest documents, no
conversion metrics in hourly rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.constants import ANALYTICS_ROLES
from pinads.emulator.errors import ApiProblemError
from pinads.emulator.http import JSONBytes, authenticate, emulator_state, require_account
from pinads.emulator.jsonrows import json_array, per_row_text
from pinads.emulator.metrics import Attribution
from pinads.emulator.params import invalid, parse_query
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.emulator.world import World

__all__ = ["analytics_endpoint", "attribution_from", "targeting_endpoint"]

SYNC_MAX_DAYS_BACK = 90
SYNC_MAX_RANGE_DAYS = 90
HOUR_MAX_DAYS_BACK = 8
HOUR_MAX_RANGE_DAYS = 3
TOO_OLD = "You can only get data from the last 90 days."


@dataclass(frozen=True)
class _Endpoint:
    level: str
    ids_param: str | None


_FLAT = {
    "ad_account/analytics": _Endpoint("ACCOUNT", None),
    "campaigns/analytics": _Endpoint("CAMPAIGN", "campaign_ids"),
    "ad_groups/analytics": _Endpoint("AD_GROUP", "ad_group_ids"),
    "ads/analytics": _Endpoint("AD", "ad_ids"),
    "product_groups/analytics": _Endpoint("PRODUCT_GROUP", "product_group_ids"),
}
_TARGETING = {
    "ad_account_targeting_analytics/get": _Endpoint("ACCOUNT", None),
    "campaign_targeting_analytics/get": _Endpoint("CAMPAIGN", "campaign_ids"),
    "ad_groups_targeting_analytics/get": _Endpoint("AD_GROUP", "ad_group_ids"),
    "ad_targeting_analytics/get": _Endpoint("AD", "ad_ids"),
}


def attribution_from(params: dict[str, Any], *, today: int) -> Attribution:
    return Attribution(
        click_window_days=int(params.get("click_window_days", 30)),
        engagement_window_days=int(params.get("engagement_window_days", 30)),
        view_window_days=int(params.get("view_window_days", 1)),
        report_time=str(params.get("conversion_report_time", "TIME_OF_AD_ACTION")),
        today=today,
    )


def _check_dates(op: str, query: dict[str, Any], *, today: int) -> tuple[int, int]:
    start, end = query["start_date"].toordinal(), query["end_date"].toordinal()
    if start > end:
        raise invalid(op)
    if query["granularity"] == "HOUR":
        if start < today - HOUR_MAX_DAYS_BACK or end - start > HOUR_MAX_RANGE_DAYS:
            raise invalid(op)
        return start, end
    if start < today - SYNC_MAX_DAYS_BACK:
        raise ApiProblemError(400, 400, TOO_OLD)
    if end - start > SYNC_MAX_RANGE_DAYS:
        raise invalid(op)
    return start, end


def _ad_ids(op: str, world: World, query: dict[str, Any]) -> tuple[str, ...]:
    """ads/analytics: ad_ids, campaign_ids and pin_ids narrow each other; one is required."""
    chosen: set[str] | None = None
    if "ad_ids" in query:
        chosen = set(query["ad_ids"])
    if "campaign_ids" in query:
        under = {a for c in query["campaign_ids"] for a in world.ads_by_campaign.get(c, [])}
        chosen = under if chosen is None else chosen & under
    if "pin_ids" in query:
        pins = set(query["pin_ids"])
        by_pin = {ad.id for ad in world.ads.values() if ad.pin_id in pins}
        chosen = by_pin if chosen is None else chosen & by_pin
    if chosen is None:
        raise invalid(op)
    return tuple(sorted(chosen))


def _report_query(
    request: Request, op: str, endpoint: _Endpoint, *, targeting: bool
) -> ReportQuery:
    info = authenticate(request)
    account = require_account(
        request, info, request.path_params["ad_account_id"], roles=ANALYTICS_ROLES
    )
    state = emulator_state(request)
    query = parse_query(request, op)
    today = state.today_ordinal()
    start, end = _check_dates(op, query, today=today)
    ids: tuple[str, ...] | None = (account.id,)
    if endpoint.level == "AD":
        ids = _ad_ids(op, state.world, query)
    elif endpoint.ids_param is not None:
        ids = tuple(query[endpoint.ids_param])
    return ReportQuery(
        account_id=account.id,
        level=endpoint.level,
        start_day=start,
        end_day=end,
        granularity=query["granularity"],
        columns=tuple(query["columns"]),
        attribution=attribution_from(query, today=today),
        entity_ids=ids,
        targeting_types=tuple(query["targeting_types"]) if targeting else (),
        aggregate=bool(query.get("aggregate_report_rows", False)),
    )


def _flat_body(world: World, query: ReportQuery) -> bytes:
    return json_array(build_rows(world, query).table)


def _target_head(target: tuple[str, str]) -> str:
    kind, value = (orjson.dumps(part).decode() for part in target)
    return f'{{"targeting_type":{kind},"targeting_value":{value},"metrics":'


def _targeting_body(world: World, query: ReportQuery) -> bytes:
    rows = build_rows(world, query)
    heads = per_row_text(rows.targets or [], _target_head)
    return b'{"data":' + json_array(rows.table, heads, "}") + b"}"


async def analytics_endpoint(request: Request) -> Response:
    """Flat rows: `[{"DATE": ..., "CAMPAIGN_ID": ..., <columns>}, ...]`."""
    op = request.scope["route"].name
    query = _report_query(request, op, _FLAT[op], targeting=False)
    # CPU-bound: off the event loop, so small requests keep being answered meanwhile.
    body = await run_in_threadpool(_flat_body, emulator_state(request).world, query)
    return JSONBytes(body)


async def targeting_endpoint(request: Request) -> Response:
    """`{"data": [{"targeting_type", "targeting_value", "metrics": {...}}, ...]}`."""
    op = request.scope["route"].name
    query = _report_query(request, op, _TARGETING[op], targeting=True)
    body = await run_in_threadpool(_targeting_body, emulator_state(request).world, query)
    return JSONBytes(body)


FLAT_OPERATIONS = tuple(_FLAT)
TARGETING_OPERATIONS = tuple(_TARGETING)
