"""Datasets, metric typing, search, and the destination schema of a selection."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from pinads.catalog import (
    ALL_METRICS,
    BREAKDOWNS,
    DATASETS,
    METRIC_GROUPS,
    AttributeSource,
    ColumnType,
    DatasetKind,
    Unit,
    arrow_schema,
    entity_lookups,
    get_dataset,
    key_columns,
    lookup_order,
    output_attributes,
    search_datasets,
    search_metrics,
)
from pinads.errors import ConfigError


def test_the_datasets_the_issue_asks_for_exist() -> None:
    for name in (
        "ad_accounts",
        "campaigns",
        "ad_groups",
        "ads",
        "keywords",
        "audiences",
        "conversion_tags",
        "customer_lists",
        "product_group_promotions",
    ):
        assert get_dataset(name).kind is DatasetKind.ENTITY
    for name in (
        "ad_account_analytics",
        "campaign_analytics",
        "ad_group_analytics",
        "ad_analytics",
        "product_group_analytics",
        "keyword_analytics",
        "campaign_by_age_bucket",
        "campaign_by_gender",
        "ad_group_by_age_bucket_and_gender",
        "ad_account_by_country",
        "ad_by_region",
        "campaign_by_location",
        "campaign_by_geo",
        "campaign_by_placement",
        "campaign_by_device",
        "campaign_by_targeted_interest",
        "campaign_by_pinner_interest",
        "campaign_by_audience",
        "campaign_by_creative_type",
    ):
        assert get_dataset(name).kind is DatasetKind.ANALYTICS


def test_device_is_pinterest_apptype_and_keyword_analytics_is_ad_group_keyword() -> None:
    device = {b.name: b for b in BREAKDOWNS}["device"]
    assert device.targeting_type == "APPTYPE"
    keyword = get_dataset("keyword_analytics")
    assert keyword.sync is not None and keyword.async_report is not None
    assert keyword.sync.path == "/ad_accounts/{ad_account_id}/ad_groups/targeting_analytics"
    assert (keyword.sync.id_param, keyword.sync.targeting_type) == ("ad_group_ids", "KEYWORD")
    assert (keyword.async_report.level, keyword.async_report.targeting_type) == (
        "AD_GROUP_TARGETING",
        "KEYWORD",
    )
    assert "ad_group_by_keyword" not in DATASETS


def test_level_endpoints_ids_and_parents() -> None:
    expected = {
        "ad_account_analytics": (None, "AD_ACCOUNT_ID", "ADVERTISER", None),
        "campaign_analytics": ("campaign_ids", "CAMPAIGN_ID", "CAMPAIGN", "campaigns"),
        "ad_group_analytics": ("ad_group_ids", "AD_GROUP_ID", "AD_GROUP", "ad_groups"),
        "ad_analytics": ("ad_ids", "AD_ID", "PIN_PROMOTION", "ads"),
        "product_group_analytics": (
            "product_group_ids",
            "PRODUCT_GROUP_ID",
            "PRODUCT_GROUP",
            "product_group_promotions",
        ),
    }
    for name, (id_param, row_key, level, ids_from) in expected.items():
        dataset = get_dataset(name)
        assert dataset.sync is not None and dataset.async_report is not None
        assert (dataset.sync.id_param, dataset.sync.row_id_key) == (id_param, row_key)
        assert dataset.async_report.level == level
        assert dataset.ids_from == ids_from
    keywords = get_dataset("keywords").list_endpoint
    assert keywords is not None and keywords.parent is not None
    assert (keywords.parent.dataset, keywords.parent.param) == ("ad_groups", "ad_group_id")
    campaigns = get_dataset("campaigns").list_endpoint
    assert campaigns is not None
    assert dict(campaigns.params)["entity_statuses"] == ("ACTIVE", "PAUSED", "ARCHIVED")


def test_get_dataset_unknown_names_the_closest() -> None:
    with pytest.raises(ConfigError, match=r"unknown dataset 'campaign': did you mean campaigns"):
        get_dataset("campaign")
    assert get_dataset(" Campaign_Analytics ").name == "campaign_analytics"


@pytest.mark.parametrize(
    ("name", "col_type", "unit", "conversion"),
    [
        ("SPEND_IN_MICRO_DOLLAR", ColumnType.INT64, Unit.MICRO_CURRENCY, False),
        ("SPEND_IN_DOLLAR", ColumnType.FLOAT64, Unit.CURRENCY, False),
        ("IMPRESSION_1", ColumnType.INT64, Unit.COUNT, False),
        ("CTR", ColumnType.FLOAT64, Unit.RATIO, False),
        ("CPC_IN_MICRO_DOLLAR", ColumnType.FLOAT64, Unit.MICRO_CURRENCY, False),
        ("TOTAL_CONVERSIONS", ColumnType.INT64, Unit.COUNT, True),
        ("TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR", ColumnType.INT64, Unit.MICRO_CURRENCY, True),
        ("TOTAL_CLICK_CHECKOUT_QUANTITY", ColumnType.INT64, Unit.COUNT, True),
        ("CHECKOUT_ROAS", ColumnType.FLOAT64, Unit.RATIO, True),
        ("TOTAL_VIEW_VIEW_CATEGORY", ColumnType.INT64, Unit.COUNT, True),
        ("TOTAL_VIEW_CATEGORY", ColumnType.INT64, Unit.COUNT, True),
        ("VIDEO_P25_COMBINED_2", ColumnType.INT64, Unit.COUNT, False),
        ("TOTAL_VIDEO_AVG_WATCHTIME_IN_SECOND", ColumnType.FLOAT64, Unit.SECONDS, False),
        ("TOTAL_PAGE_VISIT_CONVERSION_RATE", ColumnType.FLOAT64, Unit.RATIO, True),
    ],
)
def test_metric_types_units_and_conversion_flags(
    name: str, col_type: ColumnType, unit: Unit, conversion: bool
) -> None:
    metric = ALL_METRICS[name]
    assert (metric.type, metric.unit, metric.is_conversion) == (col_type, unit, conversion)


def test_metric_descriptions_follow_the_name_patterns() -> None:
    assert ALL_METRICS["TOTAL_WEB_VIEW_CHECKOUT_VALUE_IN_MICRO_DOLLAR"].description == (
        "Value of web checkouts, view-through, in micro-units of the account currency."
    )
    assert ALL_METRICS["TOTAL_ENGAGEMENT_LEAD"].description == (
        "Total leads, engagement-attributed."
    )
    assert ALL_METRICS["OUTBOUND_CLICK_2"].description == (
        "Outbound clicks to the destination URL (earned)."
    )
    assert ALL_METRICS["TOTAL_SIGNUP_MOBILE_ACTION_TO_DESKTOP_CONVERSION"].description == (
        "Cross-device sign-ups: ad action on mobile, conversion on desktop."
    )
    assert ALL_METRICS["VIDEO_P100_COMPLETE_1"].description == "Videos played to completion (paid)."
    assert all(m.description.endswith(".") for m in ALL_METRICS.values())


def test_entity_columns_of_the_enums_are_attributes_not_metrics() -> None:
    for name in ("CAMPAIGN_NAME", "AD_GROUP_ID", "PIN_ID", "CAMPAIGN_ENTITY_STATUS"):
        assert name not in ALL_METRICS
    assert ALL_METRICS["QUIZ_PIN_RESULT_OPEN"].in_sync
    assert not ALL_METRICS["QUIZ_PIN_RESULT_OPEN"].in_async
    assert not ALL_METRICS["TOTAL_WEB_SIGNUP"].in_sync


def test_search_datasets_by_name_breakdown_attribute_and_metric() -> None:
    assert search_datasets("campaign_analytics")[0].name == "campaign_analytics"
    assert [d.name for d in search_datasets("app type")][:4] == [
        "ad_account_by_device",
        "campaign_by_device",
        "ad_group_by_device",
        "ad_by_device",
    ]
    assert [d.name for d in search_datasets("CAMPAIGN DEVICE")] == [
        "campaign_by_device",
        "ad_group_by_device",
        "ad_by_device",
    ]
    assert [d.name for d in search_datasets("match_type")] == ["keywords"]
    by_metric = search_datasets("TOTAL_WEB_SIGNUP")
    assert by_metric[0].name == "ad_account_analytics"
    assert "campaign_by_creative_type" not in {d.name for d in by_metric}
    assert search_datasets("no such thing anywhere") == []
    assert len(search_datasets("")) == len(DATASETS)


def test_search_metrics_ranks_name_matches_first() -> None:
    names = [m.name for m in search_metrics("campaign_analytics", "spend")]
    assert names[:2] == ["SPEND_IN_MICRO_DOLLAR", "SPEND_IN_DOLLAR"]
    assert "ADS_CREDIT_SPEND_IN_MICRO_DOLLAR" in names
    video = [m.name for m in search_metrics("campaign_analytics", "video p25")]
    assert video == ["VIDEO_P25_COMBINED_2", "VIDEO_P25_COMBINED_1", "TOTAL_VIDEO_P25_COMBINED"]
    assert [m.name for m in search_metrics("campaign_by_gender", "reach")] == []


def test_arrow_schema_puts_the_key_first_and_types_exactly() -> None:
    dataset = get_dataset("ad_analytics")
    schema = arrow_schema(dataset, ["CAMPAIGN_NAME", "DATE"], ["SPEND_IN_MICRO_DOLLAR", "CTR"])
    assert schema == pa.schema(
        [
            pa.field("ad_account_id", pa.string(), nullable=False),
            pa.field("ad_id", pa.string(), nullable=False),
            pa.field("date", pa.date32(), nullable=False),
            pa.field("campaign_name", pa.string()),
            pa.field("spend_in_micro_dollar", pa.int64()),
            pa.field("ctr", pa.float64()),
        ]
    )
    hourly = arrow_schema(dataset, [], ["IMPRESSION_1"], granularity="HOUR")
    assert hourly.names == ["ad_account_id", "ad_id", "date", "hour", "impression_1"]
    with pytest.raises(ConfigError, match="NOPE is not a metric of ad_analytics"):
        arrow_schema(dataset, [], ["NOPE"])


def test_key_columns_per_granularity_and_breakdown() -> None:
    assert key_columns(get_dataset("campaign_analytics")) == (
        "ad_account_id",
        "campaign_id",
        "date",
    )
    assert key_columns(get_dataset("campaign_analytics"), "TOTAL") == (
        "ad_account_id",
        "campaign_id",
    )
    assert key_columns(get_dataset("ad_account_by_gender"), "HOUR") == (
        "ad_account_id",
        "date",
        "hour",
        "targeting_type",
        "targeting_value",
    )
    assert key_columns(get_dataset("keywords")) == ("id",)


def test_lookups_resolve_parents_before_names() -> None:
    dataset = get_dataset("ad_analytics")
    selected = output_attributes(dataset, ["CAMPAIGN_NAME", "AD_GROUP_NAME"])
    order = [a.name for a in lookup_order(dataset, selected)]
    assert order.index("CAMPAIGN_ID") < order.index("CAMPAIGN_NAME")
    assert order.index("AD_ID") < order.index("CAMPAIGN_ID")
    assert entity_lookups(dataset, selected) == ("ads", "campaigns", "ad_groups")
    campaign_id = dataset.attribute("campaign_id")
    assert campaign_id is not None
    assert (campaign_id.source, campaign_id.entity, campaign_id.field) == (
        AttributeSource.ENTITY,
        "ads",
        "campaign_id",
    )
    audience = get_dataset("campaign_by_audience").attribute("AUDIENCE_NAME")
    assert audience is not None and (audience.entity, audience.via) == (
        "audiences",
        "TARGETING_VALUE",
    )


def test_importing_the_catalog_reads_no_data_files() -> None:
    """Typed data, no I/O: importing opens nothing but modules (audited in a fresh process)."""
    probe = (
        "import sys\n"
        "opened = []\n"
        "def hook(event, args):\n"
        "    if event == 'open' and isinstance(args[0], str):\n"
        "        opened.append(args[0])\n"
        "sys.addaudithook(hook)\n"
        "import pinads.catalog\n"
        "data = [p for p in opened if not p.endswith(('.py', '.pyc', '.so', '.pth'))]\n"
        "print('\\n'.join(p for p in data if 'pinads' in p or p.endswith('.json')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_metric_groups_for_pickers() -> None:
    groups = {name: ALL_METRICS[name].group for name in ALL_METRICS}
    assert groups["SPEND_IN_MICRO_DOLLAR"] == "spend"
    assert groups["CPC_IN_MICRO_DOLLAR"] == "cost"
    assert groups["IMPRESSION_1"] == "delivery"
    assert groups["OUTBOUND_CLICK_1"] == "clicks"
    assert groups["REPIN_1"] == "engagement"
    assert groups["VIDEO_P25_COMBINED_1"] == "video"
    assert groups["TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"] == "conversions"
    assert set(groups.values()) <= set(METRIC_GROUPS)
    video_costs = [m.name for m in search_metrics("ad_analytics", "cost video")]
    assert video_costs[0] == "WEB_WATCH_VIDEO_COST_PER_ACTION"  # both words in the name
    assert {"ECPV_IN_DOLLAR", "CPCV_IN_MICRO_DOLLAR"} <= set(video_costs)
