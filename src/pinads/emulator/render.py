"""Entity -> JSON item, shaped as the spec's response schemas (`CampaignResponse`, ...)."""

from __future__ import annotations

from typing import Any

from pinads.emulator.world import (
    Ad,
    AdGroup,
    Audience,
    Campaign,
    ConversionTag,
    CustomerList,
    Keyword,
    day_epoch,
)

__all__ = [
    "render_ad",
    "render_ad_group",
    "render_audience",
    "render_campaign",
    "render_conversion_tag",
    "render_customer_list",
    "render_keyword",
    "render_product_group_promotion",
    "summary_status",
]


def summary_status(status: str, *, start_day: int, end_day: int | None, today: int) -> str:
    """What Ads Manager shows: RUNNING / NOT_STARTED / COMPLETED for active entities."""
    if status != "ACTIVE":
        return status
    if start_day > today:
        return "NOT_STARTED"
    if end_day is not None and end_day < today:
        return "COMPLETED"
    return "RUNNING"


def _end_time(end_day: int | None) -> int | None:
    return day_epoch(end_day + 1) if end_day is not None else None


def render_campaign(campaign: Campaign, *, today: int) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "ad_account_id": campaign.account_id,
        "name": campaign.name,
        "status": campaign.status,
        "lifetime_spend_cap": campaign.lifetime_spend_cap,
        "daily_spend_cap": campaign.daily_spend_cap,
        "order_line_id": None,
        "start_time": day_epoch(campaign.start_day),
        "end_time": _end_time(campaign.end_day),
        "summary_status": summary_status(
            campaign.status, start_day=campaign.start_day, end_day=campaign.end_day, today=today
        ),
        "is_campaign_budget_optimization": campaign.is_cbo,
        "is_flexible_daily_budgets": False,
        "is_performance_plus": False,
        "is_automated_campaign": False,
        "objective_type": campaign.objective_type,
        "created_time": day_epoch(campaign.created_day, hour=10),
        "updated_time": day_epoch(max(campaign.created_day, campaign.start_day), hour=11),
        "type": "campaign",
    }


def _targeting_spec(group: AdGroup) -> dict[str, Any]:
    return {
        "GENDER": ["female", "male", "unknown"],
        "APPTYPE": ["android_mobile", "iphone", "ipad", "web", "web_mobile"],
        "LOCALE": ["en-US"],
        "LOCATION": ["US"],
        "AGE_BUCKET": ["25-34", "35-44", "45-49"] if int(group.id) % 2 else ["18-24", "25-34"],
    }


def render_ad_group(group: AdGroup, *, today: int) -> dict[str, Any]:
    return {
        "id": group.id,
        "campaign_id": group.campaign_id,
        "ad_account_id": group.account_id,
        "name": group.name,
        "status": group.status,
        "budget_in_micro_currency": group.budget_micro,
        "bid_in_micro_currency": group.bid_micro,
        "bid_strategy_type": "MAX_BID" if group.bid_micro else "AUTOMATIC_BID",
        "budget_type": group.budget_type,
        "start_time": day_epoch(group.start_day),
        "end_time": _end_time(group.end_day),
        "targeting_spec": _targeting_spec(group),
        "lifetime_frequency_cap": -1,
        "auto_targeting_enabled": not group.is_shopping,
        "placement_group": "ALL",
        "pacing_delivery_type": "STANDARD",
        "conversion_learning_mode_type": None,
        "summary_status": summary_status(
            group.status, start_day=group.start_day, end_day=group.end_day, today=today
        ),
        "billable_event": group.billable_event,
        "created_time": day_epoch(group.created_day, hour=10),
        "updated_time": day_epoch(max(group.created_day, group.start_day), hour=11),
        "type": "adgroup",
    }


_AD_SUMMARY = {"ACTIVE": "APPROVED"}


def render_ad(ad: Ad, *, today: int) -> dict[str, Any]:
    return {
        "id": ad.id,
        "ad_group_id": ad.ad_group_id,
        "campaign_id": ad.campaign_id,
        "ad_account_id": ad.account_id,
        "pin_id": ad.pin_id,
        "name": ad.name,
        "status": ad.status,
        "creative_type": ad.creative_type,
        "destination_url": f"https://shop.example/p/{ad.pin_id}",
        "click_tracking_url": None,
        "view_tracking_url": None,
        "android_deep_link": None,
        "ios_deep_link": None,
        "carousel_android_deep_links": None,
        "carousel_destination_urls": None,
        "carousel_ios_deep_links": None,
        "is_pin_deleted": False,
        "is_removable": ad.status != "ARCHIVED",
        "review_status": "PENDING" if ad.status == "DRAFT" else "APPROVED",
        "rejected_reasons": [],
        "rejection_labels": [],
        "summary_status": _AD_SUMMARY.get(ad.status, ad.status),
        "created_time": day_epoch(ad.created_day, hour=10),
        "updated_time": day_epoch(max(ad.created_day, ad.start_day), hour=11),
        "type": "pinpromotion",
    }


def render_keyword(keyword: Keyword) -> dict[str, Any]:
    return {
        "id": keyword.id,
        "value": keyword.value,
        "match_type": keyword.match_type,
        "parent_id": keyword.ad_group_id,
        "parent_type": "ad_group",
        "archived": keyword.archived,
        "bid": None,
        "type": "keyword",
    }


def render_audience(audience: Audience) -> dict[str, Any]:
    return {
        "id": audience.id,
        "ad_account_id": audience.account_id,
        "name": audience.name,
        "audience_type": audience.audience_type,
        "description": f"{audience.audience_type.title()} audience of the demo advertiser.",
        "rule": {"country": "US"} if audience.audience_type == "ACTALIKE" else {},
        "size": audience.size,
        "status": "READY",
        "created_timestamp": day_epoch(audience.created_day, hour=8),
        "updated_timestamp": day_epoch(audience.created_day + 3, hour=8),
        "type": "audience",
    }


def render_customer_list(clist: CustomerList) -> dict[str, Any]:
    return {
        "id": clist.id,
        "ad_account_id": clist.account_id,
        "name": clist.name,
        "status": "READY",
        "num_batches": clist.num_batches,
        "num_uploaded_user_records": clist.records,
        "num_removed_user_records": clist.records // 50,
        "created_time": day_epoch(clist.created_day, hour=7),
        "updated_time": day_epoch(clist.created_day + 5, hour=7),
        "exceptions": {},
        "type": "customerlist",
    }


def render_conversion_tag(tag: ConversionTag) -> dict[str, Any]:
    fired = day_epoch(tag.last_fired_day, hour=12) * 1000 if tag.last_fired_day else None
    return {
        "id": tag.id,
        "ad_account_id": tag.account_id,
        "name": tag.name,
        "status": tag.status,
        "version": "3",
        "last_fired_time_ms": fired,
        "enhanced_match_status": "VALIDATION_COMPLETE",
        "code_snippet": f"<script>pintrk('load', '{tag.id}');</script>",
        "configs": {"aem_enabled": True, "md_frequency": 1},
    }


def render_product_group_promotion(ad: Ad) -> dict[str, Any]:
    assert ad.product_group_id is not None
    return {
        "id": ad.product_group_id,
        "ad_group_id": ad.ad_group_id,
        "catalog_product_group_id": str(int(ad.product_group_id) + 7_000_000_000_000),
        "catalog_product_group_name": ad.product_group_name,
        "bid_in_micro_currency": None,
        "creative_type": "SHOPPING",
        "included": True,
        "definition": "*",
        "relative_definition": None,
        "parent_id": None,
        "status": ad.status,
        "tracking_url": None,
        "slideshow_collections_title": None,
        "slideshow_collections_description": None,
        "is_mdl": False,
        "collections_hero_pin_id": None,
        "collections_hero_destination_url": None,
        "grid_click_type": None,
    }
