"""Targeting breakdowns: our names for Pinterest's targeting types, and where each is offered.

Users know "device" and "audience"; Pinterest says APPTYPE and AUDIENCE_INCLUDE. Both stay
visible: the dataset is named with ours (`campaign_by_device`), its `breakdown.targeting_type`
and the TARGETING_TYPE column carry Pinterest's.
"""

from __future__ import annotations

from types import MappingProxyType

from pinads.catalog.model import Breakdown

__all__ = [
    "ACCOUNT_TARGETING_TYPES",
    "ASYNC_TARGETING_TYPES",
    "BREAKDOWNS",
    "BY_TARGETING_TYPE",
    "targeting_options_entity",
    "targeting_options_type",
]

# Entity name under which a breakdown's value names are looked up (see TARGETING_VALUE_NAME):
# not a list endpoint but Pinterest's targeting options, GET /resources/targeting/{type}.
_OPTIONS_PREFIX = "targeting_options:"


def targeting_options_entity(targeting_type: str) -> str:
    """The lookup name of `targeting_type`'s value names, e.g. targeting_options:LOCATION."""
    return f"{_OPTIONS_PREFIX}{targeting_type}"


def targeting_options_type(entity: str) -> str | None:
    """The targeting type whose value names `entity` holds (None: a real entity dataset)."""
    return entity.removeprefix(_OPTIONS_PREFIX) if entity.startswith(_OPTIONS_PREFIX) else None


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown("age_bucket", "AGE_BUCKET", "Age", "age bucket: 18-24, 25-34, ..., 65+, unknown"),
    Breakdown("gender", "GENDER", "Gender", "female, male or unknown"),
    Breakdown(
        "age_bucket_and_gender",
        "AGE_BUCKET_AND_GENDER",
        "Age and gender (beta)",
        "age bucket and gender together, e.g. 25-34 female",
    ),
    Breakdown("country", "COUNTRY", "Country", "country code, e.g. US, GB"),
    Breakdown("region", "REGION", "Region", "region or state, e.g. US-CA"),
    Breakdown("location", "LOCATION", "Location (metro area)", "metro area / DMA"),
    Breakdown("geo", "GEO", "Geo (postal code)", "postal code or geo id"),
    Breakdown("placement", "PLACEMENT", "Placement", "where the ad showed: BROWSE, SEARCH, OTHER"),
    Breakdown(
        "device",
        "APPTYPE",
        "Device (app type)",
        "iphone, ipad, web, web_mobile, android_mobile, android_tablet",
    ),
    Breakdown("targeted_interest", "TARGETED_INTEREST", "Targeted interest", "interest targeted"),
    Breakdown("pinner_interest", "PINNER_INTEREST", "Pinner interest", "interest of the viewer"),
    Breakdown(
        "audience",
        "AUDIENCE_INCLUDE",
        "Audience",
        "id of the included audience (see AUDIENCE_NAME)",
    ),
    Breakdown("keyword", "KEYWORD", "Keyword", "the keyword text"),
    Breakdown("creative_type", "CREATIVE_TYPE", "Creative type", "REGULAR, VIDEO, CAROUSEL..."),
    Breakdown(
        "audience_multiplier", "AUDIENCE_MULTIPLIER", "Audience multiplier", "audience multiplier"
    ),
    Breakdown(
        "creative_enhancements",
        "CREATIVE_ENHANCEMENTS",
        "Creative enhancements (beta)",
        "creative enhancement applied",
    ),
    Breakdown("quiz_result", "QUIZ_RESULT", "Quiz result", "quiz result shown"),
)
BY_TARGETING_TYPE: MappingProxyType[str, Breakdown] = MappingProxyType(
    {breakdown.targeting_type: breakdown for breakdown in BREAKDOWNS}
)

# Targeting types of the synchronous targeting endpoints (their `targeting_types` enums).
ACCOUNT_TARGETING_TYPES = (
    "AGE_BUCKET",
    "GENDER",
    "AGE_BUCKET_AND_GENDER",
    "COUNTRY",
    "REGION",
    "LOCATION",
    "GEO",
    "PLACEMENT",
    "APPTYPE",
    "TARGETED_INTEREST",
    "PINNER_INTEREST",
    "AUDIENCE_INCLUDE",
    "KEYWORD",
)
# Targeting types async reports accept (TargetingTypeFilter), for the *_TARGETING levels.
ASYNC_TARGETING_TYPES = frozenset(
    {*ACCOUNT_TARGETING_TYPES, "AUDIENCE_MULTIPLIER", "CREATIVE_ENHANCEMENTS"}
)
