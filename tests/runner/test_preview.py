"""Test Data diagnoses, each with its message."""

from __future__ import annotations

from datetime import date
from typing import Any

from pinads.runner.preview import Diagnosis, PreviewResult, preview_source
from pinads.sources.config import SourceConfig
from pinads.values import DateRange

from .fake_pinterest import NO_ROLE_ACCOUNT, FakePinterest, fake_client

TODAY = date(2026, 11, 28)
BASE: dict[str, Any] = {
    "name": "shop",
    "dataset": "campaign_analytics",
    "authorizer": "demo",
    "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
    "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
    "date_range": "last_30_days",
}


def _preview(
    fake: FakePinterest | None = None, period: DateRange | None = None, **changes: Any
) -> PreviewResult:
    config = SourceConfig.model_validate({**BASE, **changes})
    with fake_client(fake or FakePinterest()) as client:
        return preview_source(config, client, today=TODAY, period=period)


def test_preview_shows_rows_of_the_last_seven_days() -> None:
    result = _preview()
    assert result.diagnosis is Diagnosis.DATA
    assert (result.start, result.end) == (date(2026, 11, 21), date(2026, 11, 27))
    assert result.row_count == 3 * 7
    assert result.message == "21 rows for 2026-11-21..2026-11-27 from 1 ad account(s)"
    assert "campaign_name" in result.columns


def test_truly_empty_range() -> None:
    result = _preview(FakePinterest(empty=True))
    assert result.diagnosis is Diagnosis.EMPTY_RANGE
    assert result.message.startswith(
        "No data: the range is truly empty: Pinterest returned no rows for "
        "2026-11-21..2026-11-27 from 1 ad account(s)"
    )


def test_range_too_large() -> None:
    result = _preview(period=DateRange(start=date(2024, 1, 1), end=date(2024, 1, 7)))
    assert result.diagnosis is Diagnosis.RANGE_TOO_LARGE
    assert result.message.startswith(
        "No data: the date range is too large or too old for Pinterest: date_range: start "
        "date 2024-01-01 is 1062 days back"
    )


def test_insufficient_permissions() -> None:
    result = _preview(accounts=[NO_ROLE_ACCOUNT])
    assert result.diagnosis is Diagnosis.INSUFFICIENT_PERMISSIONS
    assert result.message.startswith(
        "No data: insufficient permissions: accounts: insufficient permissions on ad account "
        f"{NO_ROLE_ACCOUNT} (Fin): your roles are FINANCE_MANAGER"
    )


def test_invalid_metric() -> None:
    result = _preview(metrics=["SPEND_IN_MICRO_DOLAR"])
    assert result.diagnosis is Diagnosis.INVALID_SELECTION
    assert result.message.startswith(
        "No data: invalid metric, attribute or breakdown: metrics: unknown metric "
        "SPEND_IN_MICRO_DOLAR; did you mean SPEND_IN_MICRO_DOLLAR"
    )


def test_incompatible_combination() -> None:
    result = _preview(
        granularity="HOUR",
        metrics=["TOTAL_CONVERSIONS"],
        date_range="yesterday",
        attributes=["DATE", "HOUR", "CAMPAIGN_ID"],
    )
    assert result.diagnosis is Diagnosis.INCOMPATIBLE_COMBINATION
    assert result.message == (
        "No data: incompatible combination: metrics: granularity HOUR returns no conversion "
        "metrics: remove TOTAL_CONVERSIONS or choose granularity DAY"
    )


def test_invalid_attribute() -> None:
    result = _preview(attributes=["DATE", "AD_ID"])
    assert result.diagnosis is Diagnosis.INVALID_SELECTION
    assert result.message == (
        "No data: invalid metric, attribute or breakdown: attributes: AD_ID is not an attribute "
        "of campaign_analytics (`pinads metrics campaign_analytics` lists them)"
    )


def test_invalid_breakdown() -> None:
    result = _preview(dataset="campaign_by_shoe_size")
    assert result.diagnosis is Diagnosis.INVALID_SELECTION
    assert result.message == (
        "No data: invalid metric, attribute or breakdown: dataset: unknown dataset "
        "'campaign_by_shoe_size': did you mean campaign_by_device, campaign_by_geo, "
        "campaign_by_gender?"
    )


def test_metric_a_breakdown_cannot_report() -> None:
    result = _preview(
        dataset="campaign_by_age_bucket",
        attributes=["DATE", "CAMPAIGN_ID", "TARGETING_VALUE"],
        metrics=["TOTAL_IMPRESSION_USER"],
    )
    assert result.diagnosis is Diagnosis.INCOMPATIBLE_COMBINATION
    assert result.message == (
        "No data: incompatible combination: metrics: TOTAL_IMPRESSION_USER is not reported per "
        "targeting value (reach counts unique users): remove it or use campaign_analytics"
    )
