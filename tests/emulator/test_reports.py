"""Async reports: lifecycle, download without auth, expiry, failure, formats, every limit."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from pinads.catalog.attributes import HOUR
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from pinads.emulator.limits import FaultConfig
from pinads.emulator.spec import extract

from .conftest import TODAY, checked_client

REPORTS = f"/v5/ad_accounts/{EUR_ADVERTISER_ID}/reports"
INVALID = {"code": 400, "message": "Invalid ad account ads analytics parameters."}
COLUMNS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CHECKOUT", "CTR", "CAMPAIGN_NAME"]


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def _body(**extra: Any) -> dict[str, Any]:
    base = {
        "start_date": _day(-40),
        "end_date": _day(-11),
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "columns": COLUMNS,
    }
    return {**base, **extra}


def _create(client: httpx.Client, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post(REPORTS, headers=headers, json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["report_status"] == "IN_PROGRESS"
    token: str = created["token"]
    return token


def _poll(client: httpx.Client, headers: dict[str, str], token: str) -> dict[str, Any]:
    response = client.get(REPORTS, headers=headers, params={"token": token})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _finished(
    client: httpx.Client, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    token = _create(client, headers, body)
    for _ in range(10):
        status = _poll(client, headers, token)
        if status["report_status"] != "IN_PROGRESS":
            assert status["report_status"] == "FINISHED"
            return status
    raise AssertionError("report never finished")


def _download(client: httpx.Client, url: str) -> httpx.Response:
    # A bare request, as to a pre-signed S3 link: no Authorization header.
    return client.get(url, headers={"Authorization": ""})


def test_lifecycle_polls_then_finished_with_a_link(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    token = _create(client, headers, _body())
    states = [_poll(client, headers, token)["report_status"] for _ in range(3)]
    assert states == ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    status = _poll(client, headers, token)
    download = _download(client, status["url"])
    assert download.status_code == 200
    assert status["size"] == len(download.content)
    report = orjson.loads(download.content)
    assert report and all(isinstance(rows, list) for rows in report.values())
    for campaign_id, rows in report.items():
        assert all(row["CAMPAIGN_ID"] == campaign_id for row in rows)
        assert all(set(row) <= {"CAMPAIGN_ID", "DATE", *COLUMNS} for row in rows)


def test_report_rows_equal_the_synchronous_ones(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    status = _finished(client, headers, _body())
    report = orjson.loads(_download(client, status["url"]).content)
    ids = sorted(report)
    params = {"start_date": _day(-40), "end_date": _day(-11), "granularity": "DAY",
              "columns": ",".join(COLUMNS), "campaign_ids": ids}  # fmt: skip
    sync = client.get(
        f"/v5/ad_accounts/{EUR_ADVERTISER_ID}/campaigns/analytics", headers=headers, params=params
    ).json()
    flat = [row for campaign in ids for row in report[campaign]]
    key = lambda row: (row["CAMPAIGN_ID"], row["DATE"])  # noqa: E731
    assert sorted(flat, key=key) == sorted(sync, key=key)


def test_csv_is_zero_filled_and_omits_empty_rows(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    status = _finished(client, headers, _body(report_format="CSV"))
    text = _download(client, status["url"]).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    assert list(rows[0]) == ["CAMPAIGN_ID", "DATE", *COLUMNS]
    for row in rows:
        assert row["TOTAL_CHECKOUT"] != ""  # zero-filled
        assert int(row["SPEND_IN_MICRO_DOLLAR"]) > 0 or int(row["IMPRESSION_1"]) > 0


def test_by_date_layout(client: httpx.Client, headers: dict[str, str]) -> None:
    status = _finished(client, headers, _body(primary_sort="BY_DATE"))
    report = orjson.loads(_download(client, status["url"]).content)
    assert all(all(row["DATE"] == day for row in rows) for day, rows in report.items())


def test_link_expires_and_a_new_poll_gives_a_fresh_one(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    token = _create(client, headers, _body())
    status = {}
    for _ in range(3):
        status = _poll(client, headers, token)
    client.post("/_emulator/clock", json={"advance_seconds": 301})
    expired = _download(client, status["url"])
    assert expired.status_code == 403
    fresh = _poll(client, headers, token)
    assert fresh["report_status"] == "FINISHED"
    assert _download(client, fresh["url"]).status_code == 200


def test_report_expires_after_an_hour(client: httpx.Client, headers: dict[str, str]) -> None:
    token = _create(client, headers, _body())
    for _ in range(3):
        _poll(client, headers, token)
    client.post("/_emulator/clock", json={"advance_seconds": 3601})
    assert _poll(client, headers, token) == {"report_status": "EXPIRED", "url": None, "size": None}


def test_configured_polls_and_ttls() -> None:
    config = EmulatorConfig(today=TODAY, report_polls_until_finished=0, report_link_ttl_seconds=10)
    transport = InProcessTransport(create_app(config))
    with checked_client(transport) as http:
        token = http.post("/_emulator/tokens", json={"user_id": "1000000000000001"}).json()[
            "access_token"
        ]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(REPORTS, headers=auth, json=_body()).json()
        status = http.get(REPORTS, headers=auth, params={"token": created["token"]}).json()
        assert status["report_status"] == "FINISHED"
        http.post("/_emulator/clock", json={"advance_seconds": 11})
        assert http.get(status["url"]).status_code == 403
    transport.close()


def test_failed_when_the_fault_config_says_so() -> None:
    config = EmulatorConfig(today=TODAY, faults=FaultConfig(report_failure_probability=1.0))
    transport = InProcessTransport(create_app(config))
    with checked_client(transport) as http:
        token = http.post("/_emulator/tokens", json={"user_id": "1000000000000001"}).json()[
            "access_token"
        ]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(REPORTS, headers=auth, json=_body()).json()
        statuses = [
            http.get(REPORTS, headers=auth, params={"token": created["token"]}).json()
            for _ in range(4)
        ]
        assert [s["report_status"] for s in statuses] == [
            "IN_PROGRESS",
            "IN_PROGRESS",
            "FAILED",
            "FAILED",
        ]
        assert statuses[-1]["url"] is None
    transport.close()


def test_failures_follow_the_faults_set_at_run_time(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    # /_emulator/faults changes what the guards apply, report outcomes included.
    assert client.post("/_emulator/faults", json={"report_failure_probability": 1.0}).is_success
    token = _create(client, headers, _body())
    outcomes = [_poll(client, headers, token)["report_status"] for _ in range(3)]
    assert outcomes == ["IN_PROGRESS", "IN_PROGRESS", "FAILED"]
    assert client.post("/_emulator/faults", json={}).is_success
    assert _finished(client, headers, _body())["report_status"] == "FINISHED"


def test_unknown_token_does_not_exist(client: httpx.Client, headers: dict[str, str]) -> None:
    assert _poll(client, headers, "feedbeef")["report_status"] == "DOES_NOT_EXIST"


def test_query_parameters_are_refused(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.post(REPORTS, headers=headers, params={"start_date": _day(-10)}, json=_body())
    assert response.status_code == 400
    assert response.json() == INVALID
    form = client.post(REPORTS, headers=headers, data={"start_date": _day(-10)})
    assert form.status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"start_date": _day(-915), "end_date": _day(-900)},
        {"start_date": _day(-300), "end_date": _day(-113)},  # 187 days
        {"granularity": "HOUR", "start_date": _day(-9), "end_date": _day(-8)},
        {"granularity": "HOUR", "start_date": _day(-7), "end_date": _day(-3)},
        {"level": "PRODUCT_ITEM", "start_date": _day(-93), "end_date": _day(-80)},
        {"level": "PRODUCT_ITEM", "start_date": _day(-40), "end_date": _day(-8)},  # 32 days
        {"level": "PRODUCT_ITEM", "ad_ids": ["1"], "start_date": _day(-10), "end_date": _day(-1)},
        {
            "level": "PRODUCT_ITEM",
            "columns": ["AD_ID"],
            "start_date": _day(-10),
            "end_date": _day(-1),
        },
        {
            "campaign_statuses": [
                "RUNNING",
                "PAUSED",
                "NOT_STARTED",
                "COMPLETED",
                "ARCHIVED",
                "DRAFT",
                "DELETED_DRAFT",
            ]
        },
        {"ad_ids": [str(n + 1) for n in range(501)]},
        {"level": "CAMPAIGN_TARGETING"},  # needs targeting_types
        {"targeting_types": ["GENDER"]},  # only for *_TARGETING levels
        {"level": "CAMPAIGNS"},
        {"columns": ["SPEND_IN_DOLLAR", "NOPE"]},
        {"click_window_days": 2},
        {"start_hour": 3},  # only for HOUR
        {"end_date": None},
        {"start_date": _day(-10), "end_date": _day(-11)},
    ],
)
def test_invalid_bodies(
    client: httpx.Client, headers: dict[str, str], change: dict[str, Any]
) -> None:
    body = _body()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = client.post(REPORTS, headers=headers, json=body)
    assert response.status_code == 400
    assert response.json() == INVALID


def test_limits_at_their_edges_are_accepted(client: httpx.Client, headers: dict[str, str]) -> None:
    ok = [
        _body(start_date=_day(-914), end_date=_day(-728)),  # 914 back, 186 long
        _body(
            granularity="HOUR", start_date=_day(-8), end_date=_day(-5), start_hour=0, end_hour=23
        ),
        _body(
            level="PRODUCT_ITEM",
            start_date=_day(-92),
            end_date=_day(-61),
            columns=["SPEND_IN_DOLLAR"],
        ),
        _body(
            campaign_statuses=["RUNNING", "PAUSED", "NOT_STARTED", "COMPLETED", "ARCHIVED", "DRAFT"]
        ),
        _body(ad_ids=[str(n + 1) for n in range(500)]),
    ]
    for body in ok:
        response = client.post(REPORTS, headers=headers, json=body)
        assert response.status_code == 200, (body, response.text)


def test_role_without_analytics_is_403(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.post(
        f"/v5/ad_accounts/{FINANCE_ONLY_ADVERTISER_ID}/reports", headers=headers, json=_body()
    )
    assert response.status_code == 403
    assert response.json()["code"] == 29


@pytest.mark.parametrize("level", extract()["enums"]["MetricsReportingLevel"])
def test_every_level_renders(client: httpx.Client, headers: dict[str, str], level: str) -> None:
    body = _body(
        level=level, start_date=_day(-20), columns=["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"]
    )
    if level.endswith("_TARGETING"):
        body["targeting_types"] = ["GENDER", "AGE_BUCKET"]
    status = _finished(client, {**headers}, {**body, "level": level})
    report = orjson.loads(_download(client, status["url"]).content)
    rows = [row for group in report.values() for row in group]
    if level in ("ADVERTISER", "CAMPAIGN", "AD_GROUP", "PIN_PROMOTION"):
        assert rows
    if level.endswith("_TARGETING") and rows:
        assert {row["targeting_type"] for row in rows} <= {"GENDER", "AGE_BUCKET"}


_OWN_ID_COLUMNS = [
    ("ADVERTISER", "AD_ACCOUNT_ID", "AD_ACCOUNT_ID"),
    ("ADVERTISER", "ADVERTISER_ID", "AD_ACCOUNT_ID"),
    ("CAMPAIGN", "CAMPAIGN_ID", "CAMPAIGN_ID"),
    ("AD_GROUP", "AD_GROUP_ID", "AD_GROUP_ID"),
    ("PIN_PROMOTION", "AD_ID", "AD_ID"),
    ("PIN_PROMOTION", "PIN_PROMOTION_ID", "AD_ID"),
    ("PRODUCT_GROUP", "PRODUCT_GROUP_ID", "PRODUCT_GROUP_ID"),
    ("CAMPAIGN_TARGETING", "CAMPAIGN_ID", "CAMPAIGN_ID"),
]


@pytest.mark.parametrize("case", _OWN_ID_COLUMNS, ids="-".join)
@pytest.mark.parametrize("report_format", ["JSON", "CSV"])
def test_the_level_id_asked_as_a_column_is_the_row_id(
    client: httpx.Client, headers: dict[str, str], case: tuple[str, str, str], report_format: str
) -> None:
    level, column, key = case
    large = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/reports"
    body = _body(
        level=level,
        start_date=_day(-3),
        end_date=_day(-1),
        columns=[column, "SPEND_IN_MICRO_DOLLAR"],
        report_format=report_format,
    )
    if level.endswith("_TARGETING"):
        body["targeting_types"] = ["GENDER"]
    token = client.post(large, headers=headers, json=body).json()["token"]
    status: dict[str, Any] = {}
    for _ in range(3):
        status = client.get(large, headers=headers, params={"token": token}).json()
    assert status["report_status"] == "FINISHED"
    content = _download(client, status["url"]).content
    if report_format == "CSV":
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        header = next(csv.reader(io.StringIO(content.decode())))
        assert header.count(key) == 1 and header.count(column) == 1
        assert rows and all(row[column] == row[key] != "" for row in rows)
        return
    report = orjson.loads(content)
    assert report
    for entity_id, group in report.items():
        assert all(row[key] == row[column] == entity_id for row in group)


@pytest.mark.parametrize("report_format", ["JSON", "CSV"])
def test_hourly_report_rows_carry_the_hour_as_the_catalog_reads_it(
    client: httpx.Client, headers: dict[str, str], report_format: str
) -> None:
    body = _body(
        granularity="HOUR",
        start_date=_day(-3),
        end_date=_day(-3),
        columns=["IMPRESSION_1"],
        report_format=report_format,
    )
    content = _download(client, _finished(client, headers, body)["url"]).content
    if report_format == "CSV":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(content.decode())))
        hours = [int(row[HOUR.field]) for row in rows]
    else:
        rows = [row for group in orjson.loads(content).values() for row in group]
        assert all(type(row[HOUR.field]) is int for row in rows)
        hours = [row[HOUR.field] for row in rows]
    assert rows and {row["DATE"] for row in rows} == {_day(-3)}
    assert set(hours) == set(range(24))


def test_filters_and_hourly_rows(client: httpx.Client, headers: dict[str, str]) -> None:
    large = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/reports"
    spend_over = {"field": "SPEND_IN_DOLLAR", "operator": "GREATER_THAN", "values": [0.5]}
    body = _body(granularity="HOUR", start_date=_day(-3), end_date=_day(-2), start_hour=9)
    body.update(end_hour=17, campaign_objective_types=["AWARENESS"], metrics_filters=[spend_over])
    token = client.post(large, headers=headers, json=body).json()["token"]
    status = {}
    for _ in range(3):
        status = client.get(large, headers=headers, params={"token": token}).json()
    rows = [
        row
        for group in orjson.loads(_download(client, status["url"]).content).values()
        for row in group
    ]
    assert rows
    assert {row["HOUR"] for row in rows} <= set(range(9, 18))
    assert all(row["CAMPAIGN_NAME"].split(" · ")[1].startswith("Awareness") for row in rows)
    assert all(row["SPEND_IN_MICRO_DOLLAR"] > 500_000 for row in rows)


def test_every_async_column_has_a_sensible_value_or_is_absent(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    columns = extract()["enums"]["ReportingColumnAsync"]
    large = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/reports"
    body = _body(level="ADVERTISER", granularity="TOTAL", start_date=_day(-60), columns=columns)
    token = client.post(large, headers=headers, json=body).json()["token"]
    status: dict[str, Any] = {}
    for _ in range(3):
        status = client.get(large, headers=headers, params={"token": token}).json()
    report = orjson.loads(_download(client, status["url"]).content)
    (rows,) = report.values()
    (row,) = rows
    assert set(row) <= {*columns, "AD_ACCOUNT_ID"}
    for name, value in row.items():
        assert value is not None and value != "", name
        assert not isinstance(value, float) or math.isfinite(value), name
    assert len(row) > 350  # most columns have data over a month of a large advertiser


def test_reset_restores_the_clock_and_forgets_reports(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    token = _create(client, headers, _body())
    client.post("/_emulator/clock", json={"today": "2026-07-01"})
    assert client.get("/_emulator/clock").json()["today"] == "2026-07-01"
    client.post("/_emulator/reset")
    assert client.get("/_emulator/clock").json()["today"] == TODAY.isoformat()
    fresh = client.post("/_emulator/tokens", json={"user_id": "1000000000000001"}).json()
    auth = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert _poll(client, auth, token)["report_status"] == "DOES_NOT_EXIST"
