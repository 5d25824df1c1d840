"""Metrics: Pinterest's column enums, typed, with units and one-line descriptions.

The names come from the spec (`_spec_columns.py`, generated). Their type, unit and description
are derived here from Pinterest's naming conventions:
- `_1` paid (from the ad itself), `_2` earned (later organic activity), `TOTAL_` both;
- `TOTAL_[WEB_|INAPP_|OFFLINE_]{CLICK_|ENGAGEMENT_|VIEW_}<EVENT>[_VALUE_IN_MICRO_DOLLAR|_QUANTITY]`
  are conversions, split by where they happened and by the ad action they are attributed to;
- `*_IN_MICRO_DOLLAR` is micro-units (1e-6) of the ad account's currency, `*_IN_DOLLAR` whole
  units of it (despite the name, not necessarily USD).
Sums (spend, conversion values) stay exact int64 micro-units; averages of money (CPC, CPM, cost
per action) and rates are float64, since Pinterest computes them as quotients.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from pinads.catalog._spec_columns import ASYNC_COLUMNS, SYNC_COLUMNS
from pinads.catalog.model import ColumnType, Metric, Unit

__all__ = [
    "ALL_METRICS",
    "METRIC_GROUPS",
    "NON_METRIC_COLUMNS",
    "REACH_METRICS",
    "describe_column",
    "metric_group",
]

# Sections of a metric picker, in display order.
METRIC_GROUPS: tuple[str, ...] = (
    "spend",
    "cost",
    "delivery",
    "clicks",
    "engagement",
    "video",
    "conversions",
    "other",
)
_GROUP_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cost", ("CPC", "CPM", "CPV", "CPCV", "ECPC", "ECPM", "ECPE", "ECPV", "ECPCV", "COST")),
    ("spend", ("SPEND",)),
    ("video", ("VIDEO",)),
    ("clicks", ("CLICKTHROUGH", "OUTBOUND", "CTR", "ECTR")),
    ("delivery", ("IMPRESSION", "DESTINATION")),
    ("engagement", ("ENGAGEMENT", "EENGAGEMENT", "REPIN", "IDEA", "SHOWCASE", "QUIZ")),
)


def metric_group(name: str, *, is_conversion: bool) -> str:
    """The picker section of a metric, from its name (conversions first, then by first match)."""
    if is_conversion:
        return "conversions"
    words = set(name.split("_"))
    for group, markers in _GROUP_WORDS:
        if words.intersection(markers):
            return group
    return "other"


# Columns in the enums that describe an entity or its settings rather than measure activity.
# The catalog offers what users need of them as attributes (from the entity lists, which carry
# them for every row) instead of as metrics.
NON_METRIC_COLUMNS: frozenset[str] = frozenset(
    {
        "ADVERTISER_ID",
        "AD_ACCOUNT_ID",
        "AD_GROUP_BID_MULTIPLIER",
        "AD_GROUP_BUDGET_IN_LOCAL_CURRENCY",
        "AD_GROUP_BUDGET_TYPE",
        "AD_GROUP_ENTITY_STATUS",
        "AD_GROUP_ID",
        "AD_GROUP_NAME",
        "AD_GROUP_OPTIMIZATION",
        "AD_GROUP_STATUS",
        "AD_ID",
        "AD_NAME",
        "AD_STATUS",
        "CAMPAIGN_BRAND_LABEL",
        "CAMPAIGN_BUDGET_OPTIMIZATION",
        "CAMPAIGN_CUSTOM_LABELS",
        "CAMPAIGN_DAILY_SPEND_CAP",
        "CAMPAIGN_ENTITY_STATUS",
        "CAMPAIGN_ID",
        "CAMPAIGN_LIFETIME_SPEND_CAP",
        "CAMPAIGN_MANAGED_STATUS",
        "CAMPAIGN_NAME",
        "CAMPAIGN_OBJECTIVE_TYPE",
        "CAMPAIGN_STATUS",
        "IS_PREMIERE_CAMPAIGN",
        "ORDER_LINE_ID",
        "ORDER_LINE_NAME",
        "PIN_ID",
        "PIN_PROMOTION_ID",
        "PIN_PROMOTION_NAME",
        "PIN_PROMOTION_STATUS",
        "PRODUCT_GROUP_AD_IMAGE_TAG",
        "PRODUCT_GROUP_AD_VIDEO_TAG",
        "PRODUCT_GROUP_ID",
        "PRODUCT_GROUP_STATUS",
        "PRODUCT_ITEM_BRAND",
        "PRODUCT_ITEM_CURRENCY",
        "PRODUCT_ITEM_DESCRIPTION",
        "PRODUCT_ITEM_IMAGE_URL",
        "PRODUCT_ITEM_NAME",
        "PRODUCT_ITEM_PIN_URL",
        "PRODUCT_ITEM_PRICE",
        "PRODUCT_ITEM_PRODUCT_CATEGORY",
        "PRODUCT_ITEM_PRODUCT_TYPE",
        "PRODUCT_ITEM_PRODUCT_URL",
        "PRODUCT_ITEM_SALE_PRICE",
        "PROMO_ID",
        "PROMO_NAME",
        "STANDARD_AD_FEED_ITEM_ID",
        "VIDEO_LENGTH",
    }
)

# Unique-user counts: they cannot be split by targeting value and summed, and Pinterest only
# reports them per entity; targeting breakdowns do not offer them.
REACH_METRICS: frozenset[str] = frozenset({"TOTAL_IMPRESSION_USER", "TOTAL_IMPRESSION_FREQUENCY"})

_EVENTS = {
    "CHECKOUT": "checkouts",
    "ADD_TO_CART": "add-to-cart events",
    "PAGE_VISIT": "page visits",
    "SIGNUP": "sign-ups",
    "LEAD": "leads",
    "CUSTOM": "custom events",
    "SEARCH": "searches",
    "VIEW_CATEGORY": "category views",
    "WATCH_VIDEO": "video watch events",
    "APP_INSTALL": "app installs",
    "UNKNOWN": "unknown-type events",
    "CONVERSIONS": "conversions (all event types)",
    "ADD_TO_WISHLIST": "add-to-wishlist events",
    "SUBSCRIBE": "subscriptions",
}
_CHANNELS = {
    "": "",
    "WEB_": "web ",
    "INAPP_": "in-app ",
    "OFFLINE_": "offline ",
    "PINTEREST_": "on-Pinterest ",
}
_ATTRIBUTIONS = {
    "": "",
    "CLICK_": ", click-attributed",
    "ENGAGEMENT_": ", engagement-attributed",
    "VIEW_": ", view-through",
}
_EVENT_RE = "|".join(sorted(_EVENTS, key=len, reverse=True))
_CONVERSION = re.compile(
    rf"^(?:TOTAL_)?(?P<chan>WEB_|INAPP_|OFFLINE_|PINTEREST_)?"
    rf"(?P<attr>CLICK_|ENGAGEMENT_|VIEW_)?(?P<event>{_EVENT_RE})"
    r"(?P<suffix>_VALUE_IN_MICRO_DOLLAR|_QUANTITY|_CONVERSION_RATE"
    r"|_(?:DESKTOP|MOBILE|TABLET)_ACTION_TO_(?:DESKTOP|MOBILE|TABLET)_CONVERSION)?$"
)
_CONVERSION_COST = re.compile(
    rf"^(?P<chan>WEB_|INAPP_|OFFLINE_|PINTEREST_)?(?P<event>{_EVENT_RE})"
    r"_(?P<kind>COST_PER_ACTION|ROAS)$"
)

# Activity measured in paid (_1), earned (_2) and combined (TOTAL_) flavours.
_BASES = {
    "IMPRESSION": "Impressions",
    "CLICKTHROUGH": "Pin clicks (to the closeup or the destination)",
    "OUTBOUND_CLICK": "Outbound clicks to the destination URL",
    "REPIN": "Saves (repins)",
    "ENGAGEMENT": "Engagements (Pin clicks, outbound clicks, saves, carousel swipes)",
    "WEB_SESSIONS": "Web sessions on the site after an ad interaction",
    "VIDEO_3SEC_VIEWS": "Video views of at least 3 seconds",
    "VIDEO_15SEC_UNIQUE_VIEWS": "Unique video views of at least 15 seconds",
    "VIDEO_MRC_VIEWS": "Video views meeting the MRC standard (2 s, 50 % in view)",
    "VIDEO_P0_COMBINED": "Video starts",
    "VIDEO_P25_COMBINED": "Videos played to 25 %",
    "VIDEO_P50_COMBINED": "Videos played to 50 %",
    "VIDEO_P75_COMBINED": "Videos played to 75 %",
    "VIDEO_P95_COMBINED": "Videos played to 95 %",
    "VIDEO_P100_COMPLETE": "Videos played to completion",
    "IDEA_PIN_PRODUCT_TAG_VISIT": "Product tag visits on Idea Pins",
    "IDEA_PIN_PAGE_FORWARD": "Forward page swipes on Idea Pins",
    "IDEA_PIN_PAGE_BACKWARD": "Backward page swipes on Idea Pins",
    "REPIN_RATE": "Save rate: saves / impressions",
    "ONSITE_CHECKOUTS": "Checkouts completed on Pinterest",
}
_FLAVOURS = {"_1": " (paid)", "_2": " (earned)"}

_HAND: dict[str, tuple[ColumnType, Unit, str]] = {
    "SPEND_IN_MICRO_DOLLAR": (
        ColumnType.INT64,
        Unit.MICRO_CURRENCY,
        "Amount spent, in micro-units (1e-6) of the ad account's currency.",
    ),
    "SPEND_IN_DOLLAR": (ColumnType.FLOAT64, Unit.CURRENCY, "Amount spent, in account currency."),
    "ADS_CREDIT_SPEND_IN_MICRO_DOLLAR": (
        ColumnType.INT64,
        Unit.MICRO_CURRENCY,
        "Spend paid with ads credits, in micro-units of the account currency.",
    ),
    "ADS_CREDIT_SPEND_IN_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Spend paid with ads credits, in account currency.",
    ),
    "VIDEO_SPEND_IN_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Spend on video ads, in account currency.",
    ),
    "PAID_IMPRESSION": (ColumnType.INT64, Unit.COUNT, "Paid impressions."),
    "IMPRESSION_1_GROSS": (
        ColumnType.INT64,
        Unit.COUNT,
        "Paid impressions including invalid (filtered) traffic.",
    ),
    "CLICKTHROUGH_1_GROSS": (
        ColumnType.INT64,
        Unit.COUNT,
        "Paid Pin clicks including invalid (filtered) traffic.",
    ),
    "TOTAL_IMPRESSION_USER": (
        ColumnType.INT64,
        Unit.COUNT,
        "Reach: unique users who saw the ad.",
    ),
    "TOTAL_IMPRESSION_FREQUENCY": (
        ColumnType.FLOAT64,
        Unit.RATIO,
        "Frequency: average impressions per reached user.",
    ),
    "TOTAL_DESTINATION_VIEWS": (
        ColumnType.INT64,
        Unit.COUNT,
        "Destination views: landing page loads after an outbound click.",
    ),
    "CTR": (ColumnType.FLOAT64, Unit.RATIO, "Click-through rate: paid Pin clicks / impressions."),
    "CTR_2": (ColumnType.FLOAT64, Unit.RATIO, "Click-through rate of earned Pin clicks."),
    "ECTR": (ColumnType.FLOAT64, Unit.RATIO, "Effective click-through rate (paid + earned)."),
    "OUTBOUND_CTR": (ColumnType.FLOAT64, Unit.RATIO, "Outbound click-through rate."),
    "OUTBOUND_CTR_1": (ColumnType.FLOAT64, Unit.RATIO, "Paid outbound click-through rate."),
    "ENGAGEMENT_RATE": (ColumnType.FLOAT64, Unit.RATIO, "Engagement rate: engagements / impr."),
    "EENGAGEMENT_RATE": (ColumnType.FLOAT64, Unit.RATIO, "Effective engagement rate."),
    "TOTAL_REPIN_RATE": (ColumnType.FLOAT64, Unit.RATIO, "Save rate, paid and earned."),
    "PAID_VIDEO_VIEWABLE_RATE": (ColumnType.FLOAT64, Unit.RATIO, "Share of paid video viewable."),
    "CPC_IN_MICRO_DOLLAR": (ColumnType.FLOAT64, Unit.MICRO_CURRENCY, "Cost per Pin click."),
    "ECPC_IN_MICRO_DOLLAR": (ColumnType.FLOAT64, Unit.MICRO_CURRENCY, "Effective cost per click."),
    "ECPC_IN_DOLLAR": (ColumnType.FLOAT64, Unit.CURRENCY, "Effective cost per click."),
    "CPM_IN_MICRO_DOLLAR": (ColumnType.FLOAT64, Unit.MICRO_CURRENCY, "Cost per 1,000 impr."),
    "CPM_IN_DOLLAR": (ColumnType.FLOAT64, Unit.CURRENCY, "Cost per 1,000 impressions."),
    "ECPM_IN_MICRO_DOLLAR": (ColumnType.FLOAT64, Unit.MICRO_CURRENCY, "Effective CPM."),
    "ECPE_IN_DOLLAR": (ColumnType.FLOAT64, Unit.CURRENCY, "Effective cost per engagement."),
    "ECPV_IN_DOLLAR": (ColumnType.FLOAT64, Unit.CURRENCY, "Effective cost per video view."),
    "ECPCV_IN_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Effective cost per completed video view.",
    ),
    "ECPCV_P95_IN_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Effective cost per video played to 95 %.",
    ),
    "CPV_IN_MICRO_DOLLAR": (ColumnType.FLOAT64, Unit.MICRO_CURRENCY, "Cost per video view."),
    "CPCV_IN_MICRO_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.MICRO_CURRENCY,
        "Cost per completed video view.",
    ),
    "CPCV_P95_IN_MICRO_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.MICRO_CURRENCY,
        "Cost per video played to 95 %.",
    ),
    "COST_PER_OUTBOUND_CLICK": (ColumnType.FLOAT64, Unit.CURRENCY, "Cost per outbound click."),
    "COST_PER_OUTBOUND_CLICK_IN_DOLLAR": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Cost per outbound click (paid + earned), in account currency.",
    ),
    "COST_PER_OUTBOUND_CLICK_IN_DOLLAR_1": (
        ColumnType.FLOAT64,
        Unit.CURRENCY,
        "Cost per paid outbound click, in account currency.",
    ),
    "LEADS": (ColumnType.INT64, Unit.COUNT, "Leads submitted through Pinterest lead ads."),
    "COST_PER_LEAD": (ColumnType.FLOAT64, Unit.CURRENCY, "Cost per lead from lead ads."),
    "QUIZ_COMPLETED": (ColumnType.INT64, Unit.COUNT, "Quiz ads completed."),
    "QUIZ_PIN_RESULT_OPEN": (ColumnType.INT64, Unit.COUNT, "Quiz result Pins opened."),
    "QUIZ_COMPLETION_RATE": (ColumnType.FLOAT64, Unit.RATIO, "Quiz completion rate."),
    "SHOWCASE_AVERAGE_SUBPAGE_CLOSEUP_PER_SESSION": (
        ColumnType.FLOAT64,
        Unit.RATIO,
        "Showcase ads: average subpage closeups per session.",
    ),
}
# Conversions that do not follow the TOTAL_<channel>_<attribution>_<event> pattern.
_CONVERSION_NAMES = frozenset({"LEADS", "COST_PER_LEAD", "ONSITE_CHECKOUTS_1"})


def describe_column(name: str) -> tuple[ColumnType, Unit, str, bool]:
    """Type, unit, description and is-conversion of a metric column, derived from its name."""
    if name in _HAND:
        col_type, unit, text = _HAND[name]
        return col_type, unit, text, name in _CONVERSION_NAMES
    return _describe_conversion(name) or _describe_activity(name) or _describe_other(name)


def _describe_conversion(name: str) -> tuple[ColumnType, Unit, str, bool] | None:
    match = _CONVERSION.match(name)
    if match:
        return _conversion_text(name, match)
    match = _CONVERSION_COST.match(name)
    if match is None:
        return None
    what = f"{_CHANNELS[match['chan'] or '']}{_EVENTS[match['event']]}"
    if match["kind"] == "ROAS":
        return (ColumnType.FLOAT64, Unit.RATIO, f"Return on ad spend of {what}.", True)
    return (ColumnType.FLOAT64, Unit.CURRENCY, f"Cost per action of {what}.", True)


def _conversion_text(name: str, match: re.Match[str]) -> tuple[ColumnType, Unit, str, bool]:
    what = f"{_CHANNELS[match['chan'] or '']}{_EVENTS[match['event']]}"
    attribution = _ATTRIBUTIONS[match["attr"] or ""]
    suffix = match["suffix"] or ""
    if suffix == "_VALUE_IN_MICRO_DOLLAR":
        text = f"Value of {what}{attribution}, in micro-units of the account currency."
        return ColumnType.INT64, Unit.MICRO_CURRENCY, text, True
    if suffix == "_QUANTITY":
        return ColumnType.INT64, Unit.COUNT, f"Items in {what}{attribution}.", True
    if suffix == "_CONVERSION_RATE":
        return ColumnType.FLOAT64, Unit.RATIO, f"Conversion rate of {what}{attribution}.", True
    if suffix:
        action, conversion = re.findall("DESKTOP|MOBILE|TABLET", suffix)
        text = (
            f"Cross-device {what}: ad action on {action.lower()}, "
            f"conversion on {conversion.lower()}."
        )
        return ColumnType.INT64, Unit.COUNT, text, True
    prefix = "Total " if name.startswith("TOTAL_") else ""
    text = f"{prefix}{what}{attribution}."
    return ColumnType.INT64, Unit.COUNT, text[0].upper() + text[1:], True


def _describe_activity(name: str) -> tuple[ColumnType, Unit, str, bool] | None:
    base, flavour = name, ""
    if name.startswith("TOTAL_"):
        base, flavour = name.removeprefix("TOTAL_"), " (paid + earned)"
    elif name[-2:] in _FLAVOURS:
        base, flavour = name[:-2], _FLAVOURS[name[-2:]]
    if base.startswith("VIDEO_AVG_WATCHTIME_IN_SECOND"):
        return ColumnType.FLOAT64, Unit.SECONDS, f"Average video watch time{flavour}.", False
    if base not in _BASES:
        return None
    col_type = ColumnType.FLOAT64 if base.endswith("_RATE") else ColumnType.INT64
    unit = Unit.RATIO if base.endswith("_RATE") else Unit.COUNT
    conversion = base in {"ONSITE_CHECKOUTS", "WEB_SESSIONS"}
    return col_type, unit, f"{_BASES[base]}{flavour}.", conversion


def _describe_other(name: str) -> tuple[ColumnType, Unit, str, bool]:
    words = name.lower().replace("_", " ")
    if name.startswith("SHOWCASE_"):
        return ColumnType.INT64, Unit.COUNT, f"Showcase ads: {words[9:]}.", False
    if name.endswith("_RATE") or "CTR" in name:
        return ColumnType.FLOAT64, Unit.RATIO, f"{words.capitalize()}.", False
    return ColumnType.INT64, Unit.COUNT, f"{words.capitalize()}.", False


def _build() -> MappingProxyType[str, Metric]:
    sync, async_ = set(SYNC_COLUMNS), set(ASYNC_COLUMNS)
    ordered = list(SYNC_COLUMNS) + [name for name in ASYNC_COLUMNS if name not in sync]
    metrics: dict[str, Metric] = {}
    for name in ordered:
        if name in NON_METRIC_COLUMNS:
            continue
        col_type, unit, text, conversion = describe_column(name)
        metrics[name] = Metric(
            name=name,
            type=col_type,
            unit=unit,
            description=text,
            is_conversion=conversion,
            in_sync=name in sync,
            in_async=name in async_,
            group=metric_group(name, is_conversion=conversion),
        )
    return MappingProxyType(metrics)


# Every metric the catalog knows, sync columns first (in the spec's order), then async-only ones.
ALL_METRICS: MappingProxyType[str, Metric] = _build()
