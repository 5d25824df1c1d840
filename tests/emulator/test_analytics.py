"""Synchronous analytics: Pinterest's validation (exact status, code, message), row shapes,
sums across levels and breakdowns, late conversions, windows, determinism."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from pinads.catalog.attributes import HOUR
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    JPY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    THIRD_USER_ID,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from pinads.emulator.spec import enum_of

from .conftest import TODAY, MintHeaders, checked_client

EUR = f"/v5/ad_accounts/{EUR_ADVERTISER_ID}"
LARGE = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}"
CAMPAIGN_INVALID = {"code": 400, "message": "Invalid ad account campaign analytics parameters."}
TOO_OLD = {"code": 400, "message": "You can only get data from the last 90 days."}
SUMMABLE = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "TOTAL_CLICKTHROUGH",
    "TOTAL_CHECKOUT",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_PAGE_VISIT",
    "TOTAL_ENGAGEMENT",
)


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def _params(**extra: Any) -> dict[str, Any]:
    base = {
        "start_date": _day(-30),
        "end_date": _day(-1),
        "granularity": "DAY",
        "columns": ",".join(SUMMABLE),
    }
    return {**base, **extra}


def _ids(client: httpx.Client, headers: dict[str, str], path: str) -> list[str]:
    body = client.get(path, headers=headers, params={"page_size": 250}).json()
    assert body["bookmark"] is None
    return [item["id"] for item in body["items"]]


def _totals(rows: list[dict[str, Any]], key: str = "DATE") -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        bucket = out.setdefault(row.get(key, "TOTAL"), dict.fromkeys(SUMMABLE, 0))
        for name in SUMMABLE:
            bucket[name] += row.get(name, 0)
    return out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"columns": None}, CAMPAIGN_INVALID),
        ({"columns": "SPEND_IN_DOLLAR,NOT_A_COLUMN"}, CAMPAIGN_INVALID),
        ({"columns": ["SPEND_IN_DOLLAR", "CTR"]}, CAMPAIGN_INVALID),  # repeated keys: not allowed
        ({"granularity": "DAILY"}, CAMPAIGN_INVALID),
        ({"click_window_days": "3"}, CAMPAIGN_INVALID),
        ({"view_window_days": "90"}, CAMPAIGN_INVALID),
        ({"engagement_window_days": "x"}, CAMPAIGN_INVALID),
        ({"conversion_report_time": "TIME_OF_CLICK"}, CAMPAIGN_INVALID),
        ({"start_date": "2026-13-01"}, CAMPAIGN_INVALID),
        ({"start_date": _day(-2), "end_date": _day(-3)}, CAMPAIGN_INVALID),
        ({"start_date": _day(-91), "end_date": _day(-80)}, TOO_OLD),
        ({"start_date": _day(-90), "end_date": _day(1)}, CAMPAIGN_INVALID),  # 91 days long
        ({"granularity": "HOUR", "start_date": _day(-9), "end_date": _day(-8)}, CAMPAIGN_INVALID),
        ({"granularity": "HOUR", "start_date": _day(-8), "end_date": _day(-4)}, CAMPAIGN_INVALID),
        ({"campaign_ids": None}, CAMPAIGN_INVALID),
        ({"campaign_ids": [str(626_000_000_001 + n) for n in range(251)]}, CAMPAIGN_INVALID),
        ({"campaign_ids": "626000000001,x"}, CAMPAIGN_INVALID),  # comma-joined ids are checked too
        ({"campaign_ids": "626000000001,"}, CAMPAIGN_INVALID),
    ],
)
def test_invalid_parameters(
    client: httpx.Client, headers: dict[str, str], change: dict[str, Any], expected: dict[str, Any]
) -> None:
    params = _params(campaign_ids=["626000000001"])
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    response = client.get(f"{LARGE}/campaigns/analytics", headers=headers, params=params)
    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("analytics", "Invalid ad account analytics parameters."),
        ("ad_groups/analytics", "Invalid ad account group analytics parameters."),
        ("ads/analytics", "Invalid ad account ads analytics parameters."),
        ("product_groups/analytics", "Invalid ad account ads analytics parameters."),
        ("targeting_analytics", "Invalid ad account analytics parameters."),
    ],
)
def test_each_endpoint_has_its_message(
    client: httpx.Client, headers: dict[str, str], path: str, message: str
) -> None:
    response = client.get(f"{LARGE}/{path}", headers=headers, params=_params(granularity="YEAR"))
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": message}


def test_limits_at_their_edges_are_accepted(client: httpx.Client, headers: dict[str, str]) -> None:
    ids = {"campaign_ids": [str(626_000_000_001 + n) for n in range(250)]}
    edges = [
        _params(start_date=_day(-90), end_date=_day(0), **ids),
        _params(granularity="HOUR", start_date=_day(-8), end_date=_day(-5), **ids),
    ]
    for params in edges:
        response = client.get(f"{LARGE}/campaigns/analytics", headers=headers, params=params)
        assert response.status_code == 200, response.text


def test_comma_joined_ids_read_as_repeated_keys(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    """Pinterest's Python SDK sends `campaign_ids=1,2`; the real API takes it like repeated
    keys, and the 250-id limit counts the ids, however they are joined."""
    ids = [str(626_000_000_001 + n) for n in range(3)]
    path = f"{LARGE}/campaigns/analytics"
    repeated = client.get(path, headers=headers, params=_params(campaign_ids=ids))
    joined = client.get(path, headers=headers, params=_params(campaign_ids=",".join(ids)))
    mixed = client.get(
        path, headers=headers, params=_params(campaign_ids=[",".join(ids[:2]), ids[2]])
    )
    assert repeated.status_code == joined.status_code == mixed.status_code == 200, joined.text
    assert repeated.json() and joined.json() == repeated.json() == mixed.json()
    many = ",".join(str(626_000_000_001 + n) for n in range(251))
    too_many = client.get(path, headers=headers, params=_params(campaign_ids=many))
    assert too_many.json() == CAMPAIGN_INVALID


def test_roles_without_analytics_are_403(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(
        f"/v5/ad_accounts/{FINANCE_ONLY_ADVERTISER_ID}/analytics", headers=headers, params=_params()
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": 29,
        "message": "You are not permitted to access that resource.",
    }


def test_missing_scope_on_analytics_is_401_code_3(client: httpx.Client, mint: MintHeaders) -> None:
    response = client.get(
        f"{EUR}/analytics", headers=mint(scopes=("user_accounts:read",)), params=_params()
    )
    assert response.status_code == 401
    assert response.json()["code"] == 3


def test_ads_analytics_needs_a_filter(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(f"{LARGE}/ads/analytics", headers=headers, params=_params())
    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "message": "Invalid ad account ads analytics parameters.",
    }


def test_levels_add_up_exactly(client: httpx.Client, headers: dict[str, str]) -> None:
    statuses: dict[str, int | list[str]] = {
        "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"],
        "page_size": 250,
    }
    campaigns = [
        c["id"]
        for c in client.get(f"{EUR}/campaigns", headers=headers, params=statuses).json()["items"]
    ]
    groups = [
        g["id"]
        for g in client.get(f"{EUR}/ad_groups", headers=headers, params=statuses).json()["items"]
    ]
    ads = [
        a["id"] for a in client.get(f"{EUR}/ads", headers=headers, params=statuses).json()["items"]
    ]
    account = client.get(f"{EUR}/analytics", headers=headers, params=_params()).json()
    by_campaign = client.get(
        f"{EUR}/campaigns/analytics", headers=headers, params=_params(campaign_ids=campaigns)
    ).json()
    by_group = client.get(
        f"{EUR}/ad_groups/analytics", headers=headers, params=_params(ad_group_ids=groups)
    ).json()
    by_ad = client.get(f"{EUR}/ads/analytics", headers=headers, params=_params(ad_ids=ads)).json()
    expected = _totals(account)
    assert expected and any(day["TOTAL_CHECKOUT"] for day in expected.values())
    assert _totals(by_campaign) == expected
    assert _totals(by_group) == expected
    assert _totals(by_ad) == expected
    assert {row["AD_ACCOUNT_ID"] for row in account} == {EUR_ADVERTISER_ID}


def test_ratios_come_from_the_sums(client: httpx.Client, headers: dict[str, str]) -> None:
    names = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "CTR"]
    names += ["CPC_IN_MICRO_DOLLAR", "CPM_IN_MICRO_DOLLAR", "SPEND_IN_DOLLAR"]
    columns = ",".join(names)
    rows = client.get(f"{EUR}/analytics", headers=headers, params=_params(columns=columns)).json()
    for row in rows:
        assert row["CTR"] == pytest.approx(row["CLICKTHROUGH_1"] / row["IMPRESSION_1"])
        assert row["CPC_IN_MICRO_DOLLAR"] == pytest.approx(
            row["SPEND_IN_MICRO_DOLLAR"] / row["CLICKTHROUGH_1"]
        )
        assert row["CPM_IN_MICRO_DOLLAR"] == pytest.approx(
            1000 * row["SPEND_IN_MICRO_DOLLAR"] / row["IMPRESSION_1"]
        )
        assert row["SPEND_IN_DOLLAR"] == pytest.approx(row["SPEND_IN_MICRO_DOLLAR"] / 1e6)
        assert isinstance(row["SPEND_IN_MICRO_DOLLAR"], int)


def test_week_month_and_total_buckets(client: httpx.Client, headers: dict[str, str]) -> None:
    params = _params(start_date=_day(-60), end_date=_day(-1))
    days = client.get(f"{EUR}/analytics", headers=headers, params=params).json()
    weeks = client.get(
        f"{EUR}/analytics", headers=headers, params={**params, "granularity": "WEEK"}
    ).json()
    months = client.get(
        f"{EUR}/analytics", headers=headers, params={**params, "granularity": "MONTH"}
    ).json()
    total = client.get(
        f"{EUR}/analytics", headers=headers, params={**params, "granularity": "TOTAL"}
    ).json()
    assert all(date.fromisoformat(w["DATE"]).weekday() == 0 for w in weeks)
    assert all(date.fromisoformat(m["DATE"]).day == 1 for m in months)
    assert len(total) == 1 and "DATE" not in total[0]
    whole = _totals(days)
    summed = {name: sum(d[name] for d in whole.values()) for name in SUMMABLE}
    for rows in (weeks, months, total):
        assert {name: sum(r.get(name, 0) for r in rows) for name in SUMMABLE} == summed


def test_hourly_rows_split_the_day_and_have_no_conversions(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    day = _params(start_date=_day(-3), end_date=_day(-3))
    daily = client.get(f"{EUR}/analytics", headers=headers, params=day).json()
    hourly = client.get(
        f"{EUR}/analytics", headers=headers, params={**day, "granularity": "HOUR"}
    ).json()
    assert {r["DATE"] for r in hourly} == {_day(-3)}
    assert {r["HOUR"] for r in hourly} <= set(range(24)) and len(hourly) > 12
    assert sum(r.get("IMPRESSION_1", 0) for r in hourly) == daily[0]["IMPRESSION_1"]
    assert (
        sum(r.get("SPEND_IN_MICRO_DOLLAR", 0) for r in hourly) == daily[0]["SPEND_IN_MICRO_DOLLAR"]
    )
    assert not any("TOTAL_CHECKOUT" in r or "TOTAL_PAGE_VISIT" in r for r in hourly)


@pytest.mark.parametrize(
    "kind", ["GENDER", "AGE_BUCKET", "COUNTRY", "APPTYPE", "PLACEMENT", "REGION", "LOCATION"]
)
def test_partition_breakdowns_sum_to_the_totals(
    client: httpx.Client, headers: dict[str, str], kind: str
) -> None:
    params = _params(granularity="TOTAL")
    total = client.get(f"{EUR}/analytics", headers=headers, params=params).json()[0]
    data = client.get(
        f"{EUR}/targeting_analytics", headers=headers, params={**params, "targeting_types": kind}
    ).json()["data"]
    assert {item["targeting_type"] for item in data} == {kind}
    assert len({item["targeting_value"] for item in data}) == len(data) > 1
    for name in SUMMABLE:
        assert sum(item["metrics"].get(name, 0) for item in data) == total[name]


def _by_ad_and_day(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for row in rows:
        for name in names:
            key = (row["AD_ID"], row["DATE"], name)
            out[key] = out.get(key, 0) + row.get(name, 0)
    return out


def test_fine_breakdowns_of_small_rows_add_up_for_every_metric(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    # Per ad and day, with 24 values: a value's share of a small row can round its impressions
    # down to 0 and keep some spend; such parts must stay, conversions included.
    ads = _ids(client, headers, f"{EUR}/ads")
    params = _params(start_date=_day(-7), ad_ids=ads)
    rows = client.get(f"{EUR}/ads/analytics", headers=headers, params=params).json()
    data = client.get(
        f"{EUR}/ads/targeting_analytics",
        headers=headers,
        params={**params, "targeting_types": "AGE_BUCKET_AND_GENDER"},
    ).json()["data"]
    assert len({item["targeting_value"] for item in data}) == 24
    expected = _by_ad_and_day(rows, SUMMABLE)
    assert any(v for (_, _, name), v in expected.items() if name == "TOTAL_CHECKOUT")
    assert _by_ad_and_day([item["metrics"] for item in data], SUMMABLE) == expected


def test_hourly_rows_of_each_ad_add_up_to_its_day(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    delivery = ("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CLICKTHROUGH", "TOTAL_ENGAGEMENT")
    ads = _ids(client, headers, f"{EUR}/ads")
    day = _params(start_date=_day(-2), end_date=_day(-2), ad_ids=ads, columns=",".join(delivery))
    daily = client.get(f"{EUR}/ads/analytics", headers=headers, params=day).json()
    hourly = client.get(
        f"{EUR}/ads/analytics", headers=headers, params={**day, "granularity": "HOUR"}
    ).json()
    assert len(hourly) > 10 * len(daily) > 0
    assert _by_ad_and_day(hourly, delivery) == _by_ad_and_day(daily, delivery)


def test_hourly_rows_carry_the_hour_as_the_catalog_reads_it(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    # The runner reads the catalog's HOUR field (an integer 0-23, UTC) beside DATE; the sync
    # flat and targeting rows must spell it that way (async reports: test_reports).
    params = _params(
        start_date=_day(-3), end_date=_day(-3), granularity="HOUR", columns="IMPRESSION_1"
    )
    flat = client.get(f"{EUR}/analytics", headers=headers, params=params).json()
    by_gender = {**params, "targeting_types": "GENDER"}
    data = client.get(f"{EUR}/targeting_analytics", headers=headers, params=by_gender).json()
    for row in [*flat, *(item["metrics"] for item in data["data"])]:
        assert type(row[HOUR.field]) is int and 0 <= row[HOUR.field] <= 23
        assert row["DATE"] == _day(-3)
    assert {row[HOUR.field] for row in flat} == set(range(24))


def test_targeting_by_campaign_keeps_the_id_and_keywords_are_partial(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    ids = _ids(client, headers, f"{EUR}/campaigns")[:3]
    params = _params(granularity="TOTAL", campaign_ids=ids, targeting_types="GENDER,KEYWORD")
    data = client.get(
        f"{EUR}/campaigns/targeting_analytics", headers=headers, params=params
    ).json()["data"]
    assert {item["metrics"]["CAMPAIGN_ID"] for item in data} <= set(ids)
    assert {item["targeting_type"] for item in data} == {"GENDER", "KEYWORD"}
    totals = client.get(
        f"{EUR}/campaigns/analytics",
        headers=headers,
        params=_params(granularity="TOTAL", campaign_ids=ids),
    ).json()
    for row in totals:
        keywords = [
            i
            for i in data
            if i["targeting_type"] == "KEYWORD"
            and i["metrics"]["CAMPAIGN_ID"] == row["CAMPAIGN_ID"]
        ]
        assert sum(i["metrics"].get("IMPRESSION_1", 0) for i in keywords) < row["IMPRESSION_1"]


def test_late_conversions_arrive_as_the_clock_moves(
    client: httpx.Client, mint: MintHeaders
) -> None:
    params = _params(
        start_date=_day(-2),
        end_date=_day(-2),
        columns="IMPRESSION_1,TOTAL_CONVERSIONS,TOTAL_CHECKOUT",
    )

    def read() -> dict[str, Any]:
        # a fresh token each time: moving the clock past 30 days expires access tokens
        rows: list[dict[str, Any]] = client.get(
            f"{LARGE}/analytics", headers=mint(), params=params
        ).json()
        return rows[0]

    before = read()
    client.post("/_emulator/clock", json={"advance_days": 10})
    after = read()
    client.post("/_emulator/clock", json={"advance_days": 50})
    settled = read()
    client.post("/_emulator/clock", json={"advance_days": 20})
    assert read() == settled  # nothing arrives after the longest lag
    assert before["IMPRESSION_1"] == after["IMPRESSION_1"] == settled["IMPRESSION_1"]
    assert before["TOTAL_CONVERSIONS"] < after["TOTAL_CONVERSIONS"] < settled["TOTAL_CONVERSIONS"]
    assert before["TOTAL_CHECKOUT"] <= after["TOTAL_CHECKOUT"] <= settled["TOTAL_CHECKOUT"]


def test_windows_and_report_time_change_conversions(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    base = _params(
        start_date=_day(-60),
        end_date=_day(-40),
        granularity="TOTAL",
        columns="TOTAL_CLICK_CHECKOUT,TOTAL_VIEW_CHECKOUT,TOTAL_CHECKOUT,IMPRESSION_1",
    )

    def get(**extra: str) -> dict[str, Any]:
        rows: list[dict[str, Any]] = client.get(
            f"{LARGE}/analytics", headers=headers, params={**base, **extra}
        ).json()
        return rows[0]

    click = [
        get(click_window_days=w)["TOTAL_CLICK_CHECKOUT"] for w in ("0", "1", "7", "14", "30", "60")
    ]
    assert click == sorted(click) and len(set(click)) == 6
    assert (
        get(view_window_days="30")["TOTAL_VIEW_CHECKOUT"]
        > get(view_window_days="1")["TOTAL_VIEW_CHECKOUT"]
    )
    by_action, by_conversion = get(), get(conversion_report_time="TIME_OF_CONVERSION")
    assert by_action["TOTAL_CHECKOUT"] != by_conversion["TOTAL_CHECKOUT"]
    assert by_action["IMPRESSION_1"] == by_conversion["IMPRESSION_1"]


def test_same_seed_same_numbers_other_seed_other_numbers(headers: dict[str, str]) -> None:
    def body(seed: int) -> bytes:
        transport = InProcessTransport(create_app(EmulatorConfig(seed=seed, today=TODAY)))
        with checked_client(transport) as http:
            token = http.post("/_emulator/tokens", json={"user_id": "1000000000000001"}).json()[
                "access_token"
            ]
            response = http.get(
                f"{EUR}/analytics", headers={"Authorization": f"Bearer {token}"}, params=_params()
            )
        transport.close()
        return response.content

    assert body(7) == body(7)
    assert body(7) != body(8)


def test_money_is_in_the_account_currency(
    client: httpx.Client, mint: MintHeaders, headers: dict[str, str]
) -> None:
    params = _params(granularity="TOTAL", columns="CPM_IN_MICRO_DOLLAR")
    yen = client.get(
        f"/v5/ad_accounts/{JPY_ADVERTISER_ID}/analytics", headers=mint(THIRD_USER_ID), params=params
    ).json()[0]
    euro = client.get(f"{EUR}/analytics", headers=headers, params=params).json()[0]
    assert yen["CPM_IN_MICRO_DOLLAR"] > 50 * euro["CPM_IN_MICRO_DOLLAR"]


def test_aggregate_report_rows_sums_the_campaigns(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    ids = _ids(client, headers, f"{EUR}/campaigns")
    rows = client.get(
        f"{EUR}/campaigns/analytics", headers=headers, params=_params(campaign_ids=ids)
    ).json()
    merged = client.get(
        f"{EUR}/campaigns/analytics",
        headers=headers,
        params=_params(campaign_ids=ids, aggregate_report_rows="true"),
    ).json()
    assert not any("CAMPAIGN_ID" in row for row in merged)
    assert _totals(merged) == _totals(rows)


def test_every_sync_column_has_a_sensible_value_or_is_absent(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    columns = sorted(enum_of("ads/analytics", "columns"))
    ads = client.get(f"{LARGE}/ads", headers=headers, params={"page_size": 40}).json()["items"]
    params = _params(columns=",".join(columns), ad_ids=[a["id"] for a in ads], start_date=_day(-10))
    rows = client.get(f"{LARGE}/ads/analytics", headers=headers, params=params).json()
    assert rows
    seen: set[str] = set()
    for row in rows:
        assert set(row) <= {*columns, "AD_ID", "DATE"}
        for name, value in row.items():
            assert value is not None and value != "", name
            assert isinstance(value, bool) or value != 0, name  # zeros are left out
            if isinstance(value, float):
                assert math.isfinite(value), name
        seen.update(row)
    assert len(seen) > 100  # most columns have data somewhere


def test_product_group_rows_follow_their_shopping_ads(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    ads = client.get(f"{LARGE}/ads", headers=headers, params={"page_size": 250}).json()["items"]
    group_id = next(a["ad_group_id"] for a in ads if a["creative_type"] == "SHOPPING")
    promotions = client.get(
        f"{LARGE}/product_group_promotions", headers=headers, params={"ad_group_id": group_id}
    ).json()["items"]
    group_ads = client.get(
        f"{LARGE}/ads", headers=headers, params={"ad_group_ids": [group_id]}
    ).json()["items"]
    params = _params(granularity="TOTAL", columns="IMPRESSION_1,SPEND_IN_MICRO_DOLLAR")
    group_params = {**params, "product_group_ids": [p["id"] for p in promotions]}
    ad_params = {**params, "ad_ids": [a["id"] for a in group_ads]}
    by_group = client.get(f"{LARGE}/product_groups/analytics", headers=headers, params=group_params)
    by_ad = client.get(f"{LARGE}/ads/analytics", headers=headers, params=ad_params).json()
    rows = by_group.json()
    assert {row["PRODUCT_GROUP_ID"] for row in rows} <= {p["id"] for p in promotions}
    for name in ("IMPRESSION_1", "SPEND_IN_MICRO_DOLLAR"):
        assert sum(r.get(name, 0) for r in rows) == sum(r.get(name, 0) for r in by_ad) > 0
