"""Pinterest's request limits and the attribution defaults of Pinterest Ads Manager.

Numbers come from the operation descriptions in Pinterest's OpenAPI description (v5.23.0): the
synchronous analytics endpoints reach 90 days back with at most 90 days per request; async
reports reach 914 days back with at most 186 days per report; HOUR granularity reaches 8 days
back with at most 3 days per request; PRODUCT_ITEM reports reach 92 days back, 31 days each.
"""

from __future__ import annotations

from pinads.catalog.model import Granularity

__all__ = [
    "ASYNC_MAX_DAYS_BACK",
    "ASYNC_MAX_IDS",
    "ASYNC_MAX_RANGE_DAYS",
    "ATTRIBUTION_WINDOW_DAYS",
    "CONVERSION_REPORT_TIMES",
    "DEFAULT_CLICK_WINDOW_DAYS",
    "DEFAULT_CONVERSION_REPORT_TIME",
    "DEFAULT_ENGAGEMENT_WINDOW_DAYS",
    "DEFAULT_GRANULARITY",
    "DEFAULT_VIEW_WINDOW_DAYS",
    "ENTITY_STATUSES",
    "HOUR_MAX_DAYS_BACK",
    "HOUR_MAX_RANGE_DAYS",
    "MAX_IDS_PER_CALL",
    "PAGE_SIZE",
    "PRODUCT_ITEM_MAX_DAYS_BACK",
    "PRODUCT_ITEM_MAX_RANGE_DAYS",
    "SYNC_MAX_DAYS_BACK",
    "SYNC_MAX_RANGE_DAYS",
]

SYNC_MAX_DAYS_BACK = 90
SYNC_MAX_RANGE_DAYS = 90
ASYNC_MAX_DAYS_BACK = 914
ASYNC_MAX_RANGE_DAYS = 186
HOUR_MAX_DAYS_BACK = 8
HOUR_MAX_RANGE_DAYS = 3
PRODUCT_ITEM_MAX_DAYS_BACK = 92
PRODUCT_ITEM_MAX_RANGE_DAYS = 31

MAX_IDS_PER_CALL = 250  # campaign_ids / ad_group_ids / ad_ids / product_group_ids per GET
ASYNC_MAX_IDS = 500  # *_ids filters of one async report
PAGE_SIZE = 250  # the largest page_size the list endpoints accept

# components.schemas.ConversionAttributionWindowDays and ConversionReportTimeType
ATTRIBUTION_WINDOW_DAYS: tuple[int, ...] = (0, 1, 7, 14, 30, 60)
CONVERSION_REPORT_TIMES: tuple[str, ...] = ("TIME_OF_AD_ACTION", "TIME_OF_CONVERSION")

# Pinterest Ads Manager's defaults, so the numbers match what users see there.
DEFAULT_CLICK_WINDOW_DAYS = 30
DEFAULT_ENGAGEMENT_WINDOW_DAYS = 30
DEFAULT_VIEW_WINDOW_DAYS = 1
DEFAULT_CONVERSION_REPORT_TIME = "TIME_OF_AD_ACTION"
DEFAULT_GRANULARITY = Granularity.DAY

# Listing entities: Pinterest's default is ACTIVE and PAUSED only. Archived campaigns, ad groups
# and ads still carry spend in the reporting period, so their names must resolve too.
ENTITY_STATUSES: tuple[str, ...] = ("ACTIVE", "PAUSED", "ARCHIVED")
