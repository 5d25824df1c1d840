"""validate_selection: each rule, with its exact message and suggestions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pinads.catalog import (
    Granularity,
    Problem,
    date_limits,
    default_attributes,
    default_metrics,
    get_dataset,
    needs_async,
    validate_selection,
)

TODAY = date(2026, 11, 28)
GOOD_ATTRS = ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"]
GOOD_METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "TOTAL_CONVERSIONS"]


def check(dataset: str = "campaign_analytics", **overrides: object) -> list[Problem]:
    selection: dict[str, object] = {
        "attributes": GOOD_ATTRS,
        "metrics": GOOD_METRICS,
        "today": TODAY,
    }
    selection.update(overrides)
    return validate_selection(dataset, **selection)  # type: ignore[arg-type]


def test_the_issue_example_is_valid() -> None:
    start = TODAY - timedelta(days=30)
    assert check(start=start, end=TODAY - timedelta(days=1)) == []


def test_unknown_dataset_names_the_closest() -> None:
    assert check("campain_analytics") == [
        Problem(
            "dataset",
            "unknown dataset 'campain_analytics'; did you mean campaign_analytics, "
            "ad_analytics, ad_group_analytics?",
            ("campaign_analytics", "ad_analytics", "ad_group_analytics"),
        )
    ]


def test_unknown_metric_offers_the_closest_names() -> None:
    problems = check(metrics=["SPEND_IN_MICRO_DOLLARS", "IMPRESSION_1"])
    assert problems == [
        Problem(
            "metrics",
            "unknown metric SPEND_IN_MICRO_DOLLARS; did you mean SPEND_IN_MICRO_DOLLAR, "
            "SPEND_IN_DOLLAR, CPV_IN_MICRO_DOLLAR? "
            "(`pinads metrics campaign_analytics` lists them)",
            ("SPEND_IN_MICRO_DOLLAR", "SPEND_IN_DOLLAR", "CPV_IN_MICRO_DOLLAR"),
        )
    ]


def test_metric_names_are_case_insensitive() -> None:
    assert check(metrics=["spend_in_micro_dollar"], attributes=["date", "campaign_id"]) == []


def test_unknown_metric_without_close_names() -> None:
    [problem] = check(metrics=["XYZZY"])
    assert problem.message == (
        "unknown metric XYZZY (`pinads metrics campaign_analytics` lists them)"
    )
    assert problem.suggestions == ()


def test_attribute_not_in_dataset() -> None:
    [problem] = check(attributes=["DATE", "AD_ID"])
    assert problem == Problem(
        "attributes",
        "AD_ID is not an attribute of campaign_analytics "
        "(`pinads metrics campaign_analytics` lists them)",
    )
    [problem] = check(attributes=["DATE", "CAMPAING_NAME"])
    assert problem == Problem(
        "attributes",
        "CAMPAING_NAME is not an attribute of campaign_analytics; did you mean CAMPAIGN_NAME, "
        "CAMPAIGN_ID, CAMPAIGN_STATUS? (`pinads metrics campaign_analytics` lists them)",
        ("CAMPAIGN_NAME", "CAMPAIGN_ID", "CAMPAIGN_STATUS"),
    )


def test_metric_listed_as_attribute_and_back() -> None:
    problems = check(attributes=["DATE", "CTR"], metrics=["CAMPAIGN_NAME"])
    assert [p.message for p in problems] == [
        "CTR is a metric, not an attribute: list it under metrics",
        "CAMPAIGN_NAME is an attribute, not a metric: list it under attributes",
    ]


def test_empty_selections() -> None:
    problems = check(attributes=[], metrics=[])
    assert [(p.field, p.message) for p in problems] == [
        (
            "attributes",
            "choose at least one attribute, e.g. DATE, AD_ACCOUNT_ID, AD_ACCOUNT_NAME, "
            "AD_ACCOUNT_CURRENCY, CAMPAIGN_ID, CAMPAIGN_NAME, CAMPAIGN_STATUS",
        ),
        (
            "metrics",
            "choose at least one metric, e.g. SPEND_IN_MICRO_DOLLAR, IMPRESSION_1, "
            "CLICKTHROUGH_1, CTR",
        ),
    ]


def test_hour_excludes_conversion_metrics() -> None:
    problems = check(
        granularity="HOUR",
        attributes=["DATE", "HOUR", "CAMPAIGN_ID"],
        metrics=[
            "SPEND_IN_MICRO_DOLLAR",
            "TOTAL_CONVERSIONS",
            "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
        ],
    )
    assert problems == [
        Problem(
            "metrics",
            "granularity HOUR returns no conversion metrics: remove TOTAL_CONVERSIONS, "
            "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR or choose granularity DAY",
        )
    ]


def test_hour_reaches_back_8_days() -> None:
    problems = check(
        granularity="HOUR",
        attributes=["DATE", "HOUR"],
        metrics=["SPEND_IN_MICRO_DOLLAR"],
        start=date(2026, 11, 10),
        end=date(2026, 11, 12),
    )
    assert problems == [
        Problem(
            "date_range",
            "start date 2026-11-10 is 18 days back; Pinterest serves hourly data from "
            "2026-11-20 at the earliest (8 days back)",
            ("2026-11-20",),
        )
    ]
    ok = check(
        granularity="HOUR",
        attributes=["DATE", "HOUR"],
        metrics=["SPEND_IN_MICRO_DOLLAR"],
        start=date(2026, 11, 20),
        end=date(2026, 11, 27),
    )
    assert ok == []


def test_hour_attribute_needs_hour_granularity_and_date_needs_a_date() -> None:
    problems = check(attributes=["DATE", "HOUR"])
    assert [p.message for p in problems] == [
        "HOUR needs granularity HOUR (got DAY): remove HOUR or set granularity HOUR"
    ]
    problems = check(granularity="TOTAL", attributes=["DATE", "CAMPAIGN_ID"])
    assert [p.message for p in problems] == [
        "DATE is not returned with granularity TOTAL: remove DATE or choose DAY, WEEK or MONTH"
    ]


def test_unknown_granularity() -> None:
    [problem] = check(granularity="DAILY")
    assert problem == Problem(
        "granularity",
        "unknown granularity 'DAILY': choose one of TOTAL, DAY, HOUR, WEEK, MONTH",
        ("DAY",),
    )


@pytest.mark.parametrize(
    ("field", "value", "suggestions"),
    [
        ("click_window_days", 3, ("1", "0")),
        ("engagement_window_days", 28, ("30", "14")),
        ("view_window_days", 90, ("60", "30")),
    ],
)
def test_attribution_windows_are_pinterest_enums(
    field: str, value: int, suggestions: tuple[str, ...]
) -> None:
    assert check("campaign_analytics", **{field: value}) == [
        Problem(field, f"{field} must be one of 0, 1, 7, 14, 30, 60 (got {value})", suggestions)
    ]


def test_conversion_report_time_values() -> None:
    assert check(conversion_report_time="TIME_OF_CONVERSION") == []
    assert check(conversion_report_time="TIME_OF_ACTION") == [
        Problem(
            "conversion_report_time",
            "conversion_report_time must be TIME_OF_AD_ACTION or TIME_OF_CONVERSION "
            "(got 'TIME_OF_ACTION')",
            ("TIME_OF_AD_ACTION", "TIME_OF_CONVERSION"),
        )
    ]


def test_a_range_past_90_days_is_served_by_async_reports() -> None:
    """The planner reads days past the synchronous 90 through reports: no refusal."""
    assert check(start=date(2026, 6, 1), end=date(2026, 6, 30)) == []
    assert check(start=date(2024, 5, 28), end=date(2026, 11, 28)) == []


def test_async_range_beyond_914_days() -> None:
    [problem] = check(start=date(2024, 1, 1), end=date(2024, 2, 1))
    assert problem.message == (
        "start date 2024-01-01 is 1062 days back; Pinterest serves async reports from "
        "2024-05-28 at the earliest (914 days back)"
    )


def test_end_before_start_and_future_end() -> None:
    assert [p.message for p in check(start=date(2026, 11, 2), end=date(2026, 11, 1))] == [
        "end date 2026-11-01 is before start date 2026-11-02: swap them"
    ]
    assert [p.message for p in check(start=date(2026, 11, 2), end=date(2026, 12, 1))] == [
        "end date 2026-12-01 is in the future: end on 2026-11-28 or earlier"
    ]


def test_product_item_limits_and_columns() -> None:
    problems = check(
        "product_item_analytics",
        attributes=["DATE", "PRODUCT_ITEM_ID", "AD_ID"],
        metrics=["SPEND_IN_MICRO_DOLLAR"],
        start=date(2026, 8, 1),
        end=date(2026, 8, 20),
    )
    assert problems == [
        Problem(
            "attributes",
            "AD_ID is not available in product item reports: Pinterest allows no ad or pin "
            "promotion columns at the PRODUCT_ITEM level; remove it",
        ),
        Problem(
            "date_range",
            "start date 2026-08-01 is 119 days back; Pinterest serves product_item_analytics "
            "from 2026-08-28 at the earliest (92 days back)",
            ("2026-08-28",),
        ),
    ]
    dataset = get_dataset("product_item_analytics")
    limits = date_limits(dataset, Granularity.DAY, use_async=True)
    assert (limits.max_days_back, limits.max_range_days) == (92, 31)


def test_targeting_breakdowns_reject_reach_columns() -> None:
    problems = check(
        "campaign_by_gender",
        attributes=["DATE", "CAMPAIGN_ID", "TARGETING_VALUE"],
        metrics=["TOTAL_IMPRESSION_USER", "IMPRESSION_1"],
    )
    assert problems == [
        Problem(
            "metrics",
            "TOTAL_IMPRESSION_USER is not reported per targeting value (reach counts unique "
            "users): remove it or use campaign_analytics",
        )
    ]


def test_sync_only_breakdown_rejects_async_only_metric_and_stays_within_90_days() -> None:
    problems = check(
        "campaign_by_creative_type",
        attributes=["DATE", "CAMPAIGN_ID", "TARGETING_VALUE"],
        metrics=["TOTAL_WEB_SIGNUP"],
        start=date(2026, 6, 1),
        end=date(2026, 6, 30),
    )
    assert [p.message for p in problems] == [
        "TOTAL_WEB_SIGNUP only comes from async reports, which do not support "
        "campaign_by_creative_type: remove it",
        "start date 2026-06-01 is 180 days back; Pinterest serves the synchronous analytics "
        "API from 2026-08-30 at the earliest (90 days back)",
    ]


def test_async_only_metrics_are_accepted_where_reports_serve_them() -> None:
    """418 metrics only come from async reports: the planner reads those sources by reports."""
    assert check(metrics=["SPEND_IN_MICRO_DOLLAR", "TOTAL_WEB_SIGNUP"]) == []
    assert check(metrics=["TOTAL_WEB_SIGNUP"], start=date(2026, 1, 1), end=date(2026, 6, 30)) == []


def test_entity_datasets_take_no_metrics_and_no_windows() -> None:
    assert validate_selection("campaigns", attributes=["ID", "NAME"]) == []
    assert validate_selection("campaigns", attributes=["ID"], metrics=["CTR"]) == [
        Problem("metrics", "campaigns is an entity list and has no metrics")
    ]


def test_every_problem_is_reported_at_once() -> None:
    problems = check(
        attributes=["DATE", "NOPE"],
        metrics=["NOPE_METRIC"],
        click_window_days=2,
        start=date(2024, 1, 1),
        end=date(2024, 1, 2),
    )
    assert [p.field for p in problems] == [
        "attributes",
        "metrics",
        "click_window_days",
        "date_range",
    ]


def test_needs_async() -> None:
    campaign = get_dataset("campaign_analytics")
    metrics = ["SPEND_IN_MICRO_DOLLAR"]
    assert not needs_async(campaign, metrics, start=TODAY - timedelta(days=90), today=TODAY)
    assert needs_async(campaign, metrics, start=TODAY - timedelta(days=91), today=TODAY)
    assert needs_async(campaign, ["TOTAL_WEB_SIGNUP"], start=TODAY, today=TODAY)
    item = get_dataset("product_item_analytics")
    assert needs_async(item, metrics, start=TODAY, today=TODAY)


def test_defaults_follow_the_granularity() -> None:
    campaign = get_dataset("campaign_analytics")
    assert default_metrics(campaign) == (
        "SPEND_IN_MICRO_DOLLAR",
        "IMPRESSION_1",
        "CLICKTHROUGH_1",
        "CTR",
        "CPC_IN_MICRO_DOLLAR",
        "CPM_IN_MICRO_DOLLAR",
        "OUTBOUND_CLICK_1",
        "REPIN_1",
        "TOTAL_CONVERSIONS",
        "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    )
    hourly = default_metrics(campaign, "HOUR")
    assert "TOTAL_CONVERSIONS" not in hourly and "SPEND_IN_MICRO_DOLLAR" in hourly
    assert default_attributes(campaign, "HOUR")[:2] == ("DATE", "HOUR")
    assert "DATE" not in default_attributes(campaign, "TOTAL")
    for granularity in Granularity:
        problems = validate_selection(
            campaign,
            attributes=default_attributes(campaign, granularity),
            metrics=default_metrics(campaign, granularity),
            granularity=granularity,
        )
        assert problems == [], granularity
