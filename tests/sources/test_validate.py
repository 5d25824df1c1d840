"""Every validation problem, with its exact message, reported together in one ConfigError."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pinads.errors import ConfigError
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config

TODAY = date(2026, 11, 28)
VISIBLE = [
    {"id": "549755813001", "name": "Large", "currency": "USD", "permissions": ["OWNER"]},
    {"id": "549755813004", "name": "Yen", "currency": "JPY", "permissions": ["FINANCE_MANAGER"]},
]
ISSUE_YAML = {
    "name": "campaign_daily",
    "dataset": "campaign_analytics",
    "authorizer": "demo",
    "accounts": "all",
    "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
    "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "TOTAL_CONVERSIONS"],
    "granularity": "DAY",
    "date_range": "last_30_days",
    "metadata": ["extracted_at", "source_name", "run_id", "account_currency"],
    "write_mode": "upsert",
    "destination": "duckdb",
}


def _problems(**changes: Any) -> str:
    document = {**ISSUE_YAML, **changes}
    with pytest.raises(ConfigError) as caught:
        parse_config(document, today=TODAY, visible_accounts=VISIBLE)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_the_issue_yaml_is_valid_with_ads_manager_defaults() -> None:
    config, dataset = parse_config(ISSUE_YAML, today=TODAY, visible_accounts=VISIBLE)
    assert dataset.name == "campaign_analytics"
    assert (config.click_window_days, config.engagement_window_days) == (30, 30)
    assert (config.view_window_days, config.conversion_report_time) == (1, "TIME_OF_AD_ACTION")
    assert config.include_archived and not config.allow_empty
    assert config.effective_lookback_days == 30


def test_dataddo_span_and_absolute_range_parse() -> None:
    assert SourceConfig.model_validate({**ISSUE_YAML, "date_range": "30d1"}).date_range == "30d1"
    absolute = {"start": date(2026, 9, 1), "end": date(2026, 9, 30)}
    config = SourceConfig.model_validate({**ISSUE_YAML, "date_range": absolute})
    assert not config.is_rolling


def test_unknown_metric_names_the_closest() -> None:
    message = _problems(metrics=["SPEND_IN_MICRO_DOLAR"])
    assert message.startswith(
        "source 'campaign_daily' is not valid (1 problem): metrics: unknown metric "
        "SPEND_IN_MICRO_DOLAR; did you mean SPEND_IN_MICRO_DOLLAR, "
    )
    assert message.endswith("? (`pinads metrics campaign_analytics` lists them)")


def test_attribute_not_in_dataset() -> None:
    message = _problems(attributes=["DATE", "AD_ID"])
    assert "attributes: AD_ID is not an attribute of campaign_analytics" in message


def test_incompatible_combination_says_which_and_why() -> None:
    message = _problems(granularity="HOUR", date_range="last_7_days")
    assert (
        "metrics: granularity HOUR returns no conversion metrics: remove TOTAL_CONVERSIONS or "
        "choose granularity DAY" in message
    )


def test_range_beyond_limit_names_earliest_date() -> None:
    message = _problems(date_range={"start": "2024-01-01", "end": "2024-01-31"})
    assert "date_range: start date 2024-01-01 is 1062 days back" in message
    assert "serves async reports from 2024-05-28 at the earliest (914 days back)" in message


def test_unknown_account_and_insufficient_role() -> None:
    message = _problems(accounts=["123", "549755813004"])
    assert (
        "accounts: ad account 123 is not visible to authorizer 'demo'; list them with "
        "`pinads accounts list --authorizer demo`" in message
    )
    assert (
        "accounts: insufficient permissions on ad account 549755813004 (Yen): your roles are "
        "FINANCE_MANAGER; analytics need Owner, Admin, Analyst or Campaign Manager" in message
    )
    assert message.startswith("source 'campaign_daily' is not valid (2 problems): ")


def test_every_problem_at_once_shape_and_catalog() -> None:
    message = _problems(
        metrics=["SPEND_IN_MICRO_DOLAR"],
        attributes=["DATE", "AD_ID"],
        metadata=["extracted_at", "colour"],
        unknown_key=1,
        accounts=["123"],
    )
    assert message.startswith("source 'campaign_daily' is not valid (5 problems): ")
    for part in (
        "metadata:",
        "unknown_key: unknown setting",
        "metrics: unknown metric",
        "attributes: AD_ID",
        "accounts: ad account 123",
    ):
        assert part in message


def test_unknown_dataset_suggests() -> None:
    message = _problems(dataset="campain_analytics")
    assert (
        "dataset: unknown dataset 'campain_analytics': did you mean campaign_analytics" in message
    )


def test_source_name_rules() -> None:
    message = _problems(name="Campaign Daily")
    assert "name: 'Campaign Daily' is not a valid source name" in message
