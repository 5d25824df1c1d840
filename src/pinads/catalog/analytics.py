"""Analytics datasets: one per reporting level, and one per (level, targeting breakdown).

A level dataset (`campaign_analytics`) reads `GET .../campaigns/analytics` for the last 90 days
and the async report level `CAMPAIGN` for older history. A breakdown dataset
(`campaign_by_age_bucket`) reads `GET .../campaigns/targeting_analytics?targeting_types=AGE_BUCKET`
and the async level `CAMPAIGN_TARGETING`. `keyword_analytics` is the ad group level broken down
by KEYWORD: keyword performance has no endpoint of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinads.catalog import attributes as defs
from pinads.catalog.breakdowns import (
    ACCOUNT_TARGETING_TYPES,
    ASYNC_TARGETING_TYPES,
    BY_TARGETING_TYPE,
    targeting_options_entity,
)
from pinads.catalog.limits import PRODUCT_ITEM_MAX_DAYS_BACK, PRODUCT_ITEM_MAX_RANGE_DAYS
from pinads.catalog.metrics import ALL_METRICS, REACH_METRICS
from pinads.catalog.model import (
    AsyncReport,
    Attribute,
    Breakdown,
    Dataset,
    DatasetKind,
    Granularity,
    Metric,
    SyncEndpoint,
)

__all__ = ["ANALYTICS_DATASETS", "DEFAULT_METRICS"]

# Pinterest Ads Manager's core columns: spend, impressions, Pin clicks, CTR, CPC, CPM, outbound
# clicks, saves, conversions and checkout value.
DEFAULT_METRICS: tuple[str, ...] = (
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

_ALL_GRANULARITIES = tuple(Granularity)


@dataclass(frozen=True)
class _Level:
    name: str
    title: str
    what: str
    id_attr: str  # the row id key, e.g. CAMPAIGN_ID
    ids_from: str | None
    path: str  # sync analytics path without the "/analytics" tail
    op: str  # sync analytics operationId
    targeting_op: str
    id_param: str | None
    async_level: str
    targeting_types: tuple[str, ...]
    details: tuple[Attribute, ...]


_ACCOUNT_PATH = "/ad_accounts/{ad_account_id}"
_LEVELS = (
    _Level(
        "ad_account",
        "Ad account",
        "for the whole ad account",
        "AD_ACCOUNT_ID",
        None,
        _ACCOUNT_PATH,
        "ad_account/analytics",
        "ad_account_targeting_analytics/get",
        None,
        "ADVERTISER",
        ACCOUNT_TARGETING_TYPES,
        (),
    ),
    _Level(
        "campaign",
        "Campaign",
        "per campaign",
        "CAMPAIGN_ID",
        "campaigns",
        f"{_ACCOUNT_PATH}/campaigns",
        "campaigns/analytics",
        "campaign_targeting_analytics/get",
        "campaign_ids",
        "CAMPAIGN",
        (*ACCOUNT_TARGETING_TYPES, "CREATIVE_TYPE", "AUDIENCE_MULTIPLIER"),
        defs.campaign_details(via_parent=None),
    ),
    _Level(
        "ad_group",
        "Ad group",
        "per ad group",
        "AD_GROUP_ID",
        "ad_groups",
        f"{_ACCOUNT_PATH}/ad_groups",
        "ad_groups/analytics",
        "ad_groups_targeting_analytics/get",
        "ad_group_ids",
        "AD_GROUP",
        (*ACCOUNT_TARGETING_TYPES, "CREATIVE_ENHANCEMENTS"),
        (*defs.ad_group_details(via_parent=None), *defs.campaign_details(via_parent="ad_groups")),
    ),
    _Level(
        "ad",
        "Ad",
        "per ad (promoted Pin)",
        "AD_ID",
        "ads",
        f"{_ACCOUNT_PATH}/ads",
        "ads/analytics",
        "ad_targeting_analytics/get",
        "ad_ids",
        "PIN_PROMOTION",
        (*ACCOUNT_TARGETING_TYPES, "QUIZ_RESULT"),
        (
            *defs.ad_details(),
            *defs.ad_group_details(via_parent="ads"),
            *defs.campaign_details(via_parent="ads"),
        ),
    ),
)


def _metrics(*, targeting: bool, sync_only: bool) -> tuple[Metric, ...]:
    return tuple(
        metric
        for metric in ALL_METRICS.values()
        if not (targeting and metric.name in REACH_METRICS)
        and not (sync_only and not metric.in_sync)
    )


def _key(id_attr: str, *, targeting: bool) -> tuple[str, ...]:
    ids = ("AD_ACCOUNT_ID",) if id_attr == "AD_ACCOUNT_ID" else ("AD_ACCOUNT_ID", id_attr)
    tail = ("TARGETING_TYPE", "TARGETING_VALUE") if targeting else ()
    return (*ids, "DATE", "HOUR", *tail)


def _level_dataset(level: _Level) -> Dataset:
    attrs = (defs.DATE, defs.HOUR, *defs.ACCOUNT_ATTRIBUTES, *level.details)
    defaults: tuple[str, ...] = ("DATE", "AD_ACCOUNT_ID", "AD_ACCOUNT_NAME", "AD_ACCOUNT_CURRENCY")
    if level.details:
        defaults = (*defaults, *(a.name for a in level.details[:3]))
    return Dataset(
        name=f"{level.name}_analytics",
        kind=DatasetKind.ANALYTICS,
        title=f"{level.title} analytics",
        description=f"Metrics {level.what}, by day, hour, week or month.",
        attributes=attrs,
        metrics=_metrics(targeting=False, sync_only=False),
        key=_key(level.id_attr, targeting=False),
        default_attributes=defaults,
        default_metrics=DEFAULT_METRICS,
        level=level.name,
        sync=SyncEndpoint(
            path=f"{level.path}/analytics",
            operation_id=level.op,
            id_param=level.id_param,
            row_id_key=level.id_attr,
        ),
        async_report=AsyncReport(
            level=level.async_level,
            id_filter=level.id_param,
            row_id_key=level.id_attr,
        ),
        ids_from=level.ids_from,
        granularities=_ALL_GRANULARITIES,
        keywords=("performance", "report", "spend", level.async_level.lower()),
    )


# The audience breakdown reports audience ids; their names come from the audiences list.
_AUDIENCE_NAME = defs.entity_attribute(
    "AUDIENCE_NAME",
    entity="audiences",
    via="TARGETING_VALUE",
    field="name",
    description="Name of the audience in TARGETING_VALUE.",
)


# Breakdowns whose values are codes (DMA 501, geo ids): their names come from Pinterest's
# targeting options (GET /resources/targeting/{type}), looked up like an entity's name.
NAMED_TARGETING_TYPES = ("LOCATION", "GEO")


def _value_name(targeting_type: str) -> Attribute:
    return defs.entity_attribute(
        "TARGETING_VALUE_NAME",
        entity=targeting_options_entity(targeting_type),
        via="TARGETING_VALUE",
        field="name",
        description="Readable name of the code in TARGETING_VALUE (e.g. 501 -> U.S.: New "
        "York), from Pinterest's targeting options.",
    )


def _breakdown_async(level: _Level, targeting_type: str) -> AsyncReport | None:
    if targeting_type not in ASYNC_TARGETING_TYPES:
        return None  # e.g. CREATIVE_TYPE, QUIZ_RESULT: synchronous endpoints only
    return AsyncReport(
        level=f"{level.async_level}_TARGETING",
        id_filter=level.id_param,
        row_id_key=level.id_attr,
        targeting_type=targeting_type,
    )


def _breakdown_dataset(
    level: _Level, breakdown: Breakdown, *, name: str | None = None, title: str | None = None
) -> Dataset:
    targeting_type = breakdown.targeting_type
    extra: tuple[Attribute, ...] = ()
    if targeting_type == "AUDIENCE_INCLUDE":
        extra = (_AUDIENCE_NAME,)
    elif targeting_type in NAMED_TARGETING_TYPES:
        extra = (_value_name(targeting_type),)
    targeting = (defs.TARGETING_TYPE, defs.TARGETING_VALUE, *extra)
    ids = tuple(a.name for a in level.details[:2])
    async_report = _breakdown_async(level, targeting_type)
    return Dataset(
        name=name or f"{level.name}_by_{breakdown.name}",
        kind=DatasetKind.ANALYTICS,
        title=title or f"{level.title} by {breakdown.title.lower()}",
        description=(
            f"Metrics {level.what}, split by {breakdown.title.lower()} "
            f"(Pinterest {targeting_type}: {breakdown.values})."
        ),
        attributes=(defs.DATE, defs.HOUR, *defs.ACCOUNT_ATTRIBUTES, *level.details, *targeting),
        metrics=_metrics(targeting=True, sync_only=async_report is None),
        key=_key(level.id_attr, targeting=True),
        default_attributes=("DATE", "AD_ACCOUNT_ID", *ids, *(a.name for a in targeting)),
        default_metrics=tuple(m for m in DEFAULT_METRICS if m not in REACH_METRICS),
        level=level.name,
        sync=SyncEndpoint(
            path=f"{level.path}/targeting_analytics",
            operation_id=level.targeting_op,
            id_param=level.id_param,
            row_id_key=level.id_attr,
            targeting_type=targeting_type,
        ),
        async_report=async_report,
        ids_from=level.ids_from,
        breakdown=breakdown,
        granularities=_ALL_GRANULARITIES,
        keywords=("targeting", "breakdown", breakdown.name.replace("_", " "), targeting_type),
    )


def _product_group_analytics() -> Dataset:
    details = (
        *defs.product_group_details(),
        *defs.ad_group_details(via_parent="product_group_promotions"),
    )
    details = (*details, *defs.campaign_details(via_parent="ad_groups"))
    return Dataset(
        name="product_group_analytics",
        kind=DatasetKind.ANALYTICS,
        title="Product group analytics",
        description="Shopping metrics per promoted product group, by day, hour, week or month.",
        attributes=(defs.DATE, defs.HOUR, *defs.ACCOUNT_ATTRIBUTES, *details),
        metrics=_metrics(targeting=False, sync_only=False),
        key=_key("PRODUCT_GROUP_ID", targeting=False),
        default_attributes=(
            "DATE",
            "AD_ACCOUNT_ID",
            "AD_ACCOUNT_CURRENCY",
            "PRODUCT_GROUP_ID",
            "PRODUCT_GROUP_NAME",
            "AD_GROUP_ID",
        ),
        default_metrics=DEFAULT_METRICS,
        level="product_group",
        sync=SyncEndpoint(
            path=f"{_ACCOUNT_PATH}/product_groups/analytics",
            operation_id="product_groups/analytics",
            id_param="product_group_ids",
            row_id_key="PRODUCT_GROUP_ID",
        ),
        async_report=AsyncReport(
            level="PRODUCT_GROUP", id_filter="product_group_ids", row_id_key="PRODUCT_GROUP_ID"
        ),
        ids_from="product_group_promotions",
        granularities=_ALL_GRANULARITIES,
        keywords=("shopping", "catalog", "performance"),
    )


_PRODUCT_ITEM_FIELDS = (
    ("PRODUCT_ITEM_NAME", "Product title."),
    ("PRODUCT_ITEM_BRAND", "Product brand."),
    ("PRODUCT_ITEM_PRODUCT_TYPE", "Product type from the catalog."),
    ("PRODUCT_ITEM_PRODUCT_CATEGORY", "Google product category."),
    ("PRODUCT_ITEM_PRICE", "Price as listed in the catalog."),
    ("PRODUCT_ITEM_SALE_PRICE", "Sale price as listed in the catalog."),
    ("PRODUCT_ITEM_CURRENCY", "Currency of the item's price."),
    ("PRODUCT_ITEM_PRODUCT_URL", "Product page URL."),
    ("PRODUCT_ITEM_IMAGE_URL", "Product image URL."),
)


def _product_item_analytics() -> Dataset:
    # Async only: there is no synchronous product item endpoint. Items are catalog rows, so the
    # descriptive columns come with the report rows themselves.
    item_attrs = tuple(defs.row_id(name, text) for name, text in _PRODUCT_ITEM_FIELDS)
    return Dataset(
        name="product_item_analytics",
        kind=DatasetKind.ANALYTICS,
        title="Product item analytics",
        description="Shopping metrics per catalog item (async reports, last 92 days only).",
        attributes=(
            defs.DATE,
            defs.HOUR,
            *defs.ACCOUNT_ATTRIBUTES,
            defs.row_id("PRODUCT_ITEM_ID", "Catalog item id (the report's row key)."),
            *item_attrs,
        ),
        metrics=tuple(m for m in _metrics(targeting=False, sync_only=False) if m.in_async),
        key=_key("PRODUCT_ITEM_ID", targeting=False),
        default_attributes=("DATE", "AD_ACCOUNT_ID", "PRODUCT_ITEM_ID", "PRODUCT_ITEM_NAME"),
        default_metrics=DEFAULT_METRICS,
        level="product_item",
        async_report=AsyncReport(
            level="PRODUCT_ITEM", id_filter="product_item_ids", row_id_key="PRODUCT_ITEM_ID"
        ),
        granularities=_ALL_GRANULARITIES,
        max_days_back=PRODUCT_ITEM_MAX_DAYS_BACK,
        max_range_days=PRODUCT_ITEM_MAX_RANGE_DAYS,
        keywords=("shopping", "catalog", "products", "sku"),
    )


def _build() -> tuple[Dataset, ...]:
    levels = tuple(_level_dataset(level) for level in _LEVELS)
    ad_group = _LEVELS[2]
    keyword = _breakdown_dataset(
        ad_group, BY_TARGETING_TYPE["KEYWORD"], name="keyword_analytics", title="Keyword analytics"
    )
    breakdowns = tuple(
        _breakdown_dataset(level, BY_TARGETING_TYPE[targeting_type])
        for level in _LEVELS
        for targeting_type in level.targeting_types
        if not (level is ad_group and targeting_type == "KEYWORD")
    )
    return (*levels, _product_group_analytics(), keyword, _product_item_analytics(), *breakdowns)


ANALYTICS_DATASETS: tuple[Dataset, ...] = _build()
