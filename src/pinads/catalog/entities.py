"""Entity datasets: the structure of an ad account (campaigns, ad groups, ads, keywords...).

Each field is declared with the name of the response schema's property (upper-cased for the
attribute, lower-cased again for the column), so `tests/catalog/test_contract.py` can check it
against the list endpoint's response schema in the spec.
"""

from __future__ import annotations

from pinads.catalog.limits import ENTITY_STATUSES
from pinads.catalog.model import (
    Attribute,
    AttributeSource,
    ColumnType,
    Dataset,
    DatasetKind,
    FieldEncoding,
    ListEndpoint,
    ParentIteration,
)

__all__ = ["ENTITY_DATASETS"]

_S, _I, _F, _B, _T = (
    ColumnType.STRING,
    ColumnType.INT64,
    ColumnType.FLOAT64,
    ColumnType.BOOL,
    ColumnType.TIMESTAMP,
)


def _row(
    field: str,
    col_type: ColumnType,
    description: str,
    encoding: FieldEncoding = FieldEncoding.PLAIN,
) -> Attribute:
    if col_type is ColumnType.TIMESTAMP and encoding is FieldEncoding.PLAIN:
        encoding = FieldEncoding.UNIX_SECONDS
    return Attribute(
        name=field.upper(),
        type=col_type,
        description=description,
        source=AttributeSource.ROW,
        field=field,
        encoding=encoding,
    )


def _json(field: str, description: str) -> Attribute:
    return _row(field, _S, description, FieldEncoding.JSON)


# Keywords and product group promotions do not carry their ad account id; the request has it.
_ACCOUNT_ID = Attribute(
    name="AD_ACCOUNT_ID",
    type=_S,
    description="Ad account id (from the request).",
    source=AttributeSource.ACCOUNT,
    field="id",
)
_STATUSES = (("entity_statuses", ENTITY_STATUSES),)


def _entity(
    name: str,
    *,
    title: str,
    description: str,
    endpoint: ListEndpoint,
    fields: tuple[Attribute, ...],
    defaults: tuple[str, ...],
    keywords: tuple[str, ...] = (),
) -> Dataset:
    return Dataset(
        name=name,
        kind=DatasetKind.ENTITY,
        title=title,
        description=description,
        attributes=fields,
        metrics=(),
        key=("ID",),
        default_attributes=defaults,
        level=name.removesuffix("s"),
        list_endpoint=endpoint,
        keywords=keywords,
    )


_CREATED_UPDATED = (
    _row("created_time", _T, "When it was created (UTC)."),
    _row("updated_time", _T, "When it was last updated (UTC)."),
)

AD_ACCOUNTS = _entity(
    "ad_accounts",
    title="Ad accounts",
    description="Ad accounts the authorizer can see, with currency, country, owner and roles.",
    endpoint=ListEndpoint(
        path="/ad_accounts",
        operation_id="ad_accounts/list",
        params=(("include_shared_accounts", ("true",)),),
    ),
    fields=(
        _row("id", _S, "Ad account id."),
        _row("name", _S, "Ad account name."),
        _row("currency", _S, "ISO 4217 currency of all money metrics of the account."),
        _row("country", _S, "Country of the ad account (ISO 3166 alpha-2)."),
        _json("owner", "Owner user (id, username) as JSON."),
        _json("permissions", "Roles of the authorizing user on this account, as a JSON list."),
        *_CREATED_UPDATED,
    ),
    defaults=("ID", "NAME", "CURRENCY", "COUNTRY", "PERMISSIONS"),
    keywords=("advertiser", "currency", "roles"),
)

CAMPAIGNS = _entity(
    "campaigns",
    title="Campaigns",
    description="Campaigns with objective, status, budgets and schedule (archived included).",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/campaigns",
        operation_id="campaigns/list",
        params=_STATUSES,
    ),
    fields=(
        _row("id", _S, "Campaign id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("name", _S, "Campaign name."),
        _row("status", _S, "Entity status: ACTIVE, PAUSED, ARCHIVED..."),
        _row("summary_status", _S, "Delivery status: RUNNING, PAUSED, COMPLETED..."),
        _row("objective_type", _S, "Objective: AWARENESS, CONSIDERATION, WEB_CONVERSION..."),
        _row("daily_spend_cap", _I, "Daily spend cap in micro-units of the account currency."),
        _row("lifetime_spend_cap", _I, "Lifetime spend cap in micro-units of the currency."),
        _row("start_time", _T, "Scheduled start (UTC)."),
        _row("end_time", _T, "Scheduled end (UTC)."),
        _row("order_line_id", _S, "Order line id (invoiced accounts)."),
        _row("is_campaign_budget_optimization", _B, "Campaign budget optimization is on."),
        _row("is_performance_plus", _B, "Performance+ campaign."),
        _row("is_automated_campaign", _B, "Automated campaign."),
        _row("is_flexible_daily_budgets", _B, "Flexible daily budgets are on."),
        _json("tracking_urls", "Third-party tracking URLs as JSON."),
        *_CREATED_UPDATED,
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "NAME", "STATUS", "OBJECTIVE_TYPE"),
)

AD_GROUPS = _entity(
    "ad_groups",
    title="Ad groups",
    description="Ad groups with budget, bid, targeting spec and schedule (archived included).",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/ad_groups",
        operation_id="ad_groups/list",
        params=_STATUSES,
    ),
    fields=(
        _row("id", _S, "Ad group id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("campaign_id", _S, "Parent campaign id."),
        _row("name", _S, "Ad group name."),
        _row("status", _S, "Entity status: ACTIVE, PAUSED, ARCHIVED..."),
        _row("summary_status", _S, "Delivery status: RUNNING, PAUSED, COMPLETED..."),
        _row("budget_in_micro_currency", _I, "Budget in micro-units of the account currency."),
        _row("budget_type", _S, "DAILY, LIFETIME or CBO_ADGROUP."),
        _row("bid_in_micro_currency", _I, "Bid in micro-units of the account currency."),
        _row("bid_strategy_type", _S, "AUTOMATIC_BID, MAX_BID or TARGET_AVG."),
        _row("billable_event", _S, "What is billed: CLICKTHROUGH, IMPRESSION, VIDEO_V_50_MRC."),
        _row("pacing_delivery_type", _S, "STANDARD or ACCELERATED pacing."),
        _row("placement_group", _S, "Where ads show: ALL, BROWSE, SEARCH..."),
        _row("start_time", _T, "Scheduled start (UTC)."),
        _row("end_time", _T, "Scheduled end (UTC)."),
        _row("auto_targeting_enabled", _B, "Pinterest may expand the targeting."),
        _row("lifetime_frequency_cap", _I, "Maximum impressions per user over the lifetime."),
        _json("targeting_spec", "Targeting (ages, genders, locations, interests...) as JSON."),
        _json("optimization_goal_metadata", "Optimization goal settings as JSON."),
        *_CREATED_UPDATED,
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "NAME", "STATUS", "BUDGET_IN_MICRO_CURRENCY"),
    keywords=("targeting spec", "bid", "budget"),
)

ADS = _entity(
    "ads",
    title="Ads",
    description="Ads (promoted Pins) with creative type, review status and destination URL.",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/ads",
        operation_id="ads/list",
        params=_STATUSES,
    ),
    fields=(
        _row("id", _S, "Ad id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("campaign_id", _S, "Parent campaign id."),
        _row("ad_group_id", _S, "Parent ad group id."),
        _row("pin_id", _S, "Id of the promoted Pin."),
        _row("name", _S, "Ad name."),
        _row("status", _S, "Entity status: ACTIVE, PAUSED, ARCHIVED..."),
        _row("summary_status", _S, "Delivery status: APPROVED, PAUSED, REJECTED..."),
        _row("review_status", _S, "Review: PENDING, APPROVED, REJECTED, OTHER."),
        _row("creative_type", _S, "Creative: REGULAR, VIDEO, SHOPPING, CAROUSEL, IDEA..."),
        _row("destination_url", _S, "Landing page URL."),
        _row("click_tracking_url", _S, "Click tracking URL."),
        _row("view_tracking_url", _S, "Impression tracking URL."),
        _json("rejected_reasons", "Why the ad was rejected, as a JSON list."),
        *_CREATED_UPDATED,
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "AD_GROUP_ID", "PIN_ID", "NAME", "STATUS"),
    keywords=("promoted pin", "pin promotion", "creative"),
)

KEYWORDS = _entity(
    "keywords",
    title="Keywords",
    description="Keywords bid on in each ad group, with match type (listed per ad group).",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/keywords",
        operation_id="keywords/get",
        parent=ParentIteration(dataset="ad_groups", param="ad_group_id"),
    ),
    fields=(
        _row("id", _S, "Keyword id."),
        _ACCOUNT_ID,
        _row("value", _S, "The keyword text."),
        _row("match_type", _S, "BROAD, PHRASE, EXACT, EXACT_NEGATIVE or PHRASE_NEGATIVE."),
        _row("parent_id", _S, "Id of the ad group (or campaign) the keyword belongs to."),
        _row("parent_type", _S, "Kind of parent: ad_group or campaign."),
        _row("archived", _B, "The keyword is archived."),
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "VALUE", "MATCH_TYPE", "PARENT_ID"),
    keywords=("search terms", "match type"),
)

AUDIENCES = _entity(
    "audiences",
    title="Audiences",
    description="Audiences owned by the account: type, rule, size and status.",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/audiences",
        operation_id="audiences/list",
    ),
    fields=(
        _row("id", _S, "Audience id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("name", _S, "Audience name."),
        _row("audience_type", _S, "CUSTOMER_LIST, VISITOR, ENGAGEMENT, ACTALIKE..."),
        _row("description", _S, "Audience description."),
        _row("size", _I, "Estimated audience size."),
        _row("status", _S, "READY, TOO_SMALL, PROCESSING..."),
        _json("rule", "Audience rule as JSON."),
        _row("created_timestamp", _T, "When it was created (UTC)."),
        _row("updated_timestamp", _T, "When it was last updated (UTC)."),
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "NAME", "AUDIENCE_TYPE", "SIZE", "STATUS"),
    keywords=("segments", "retargeting"),
)

CONVERSION_TAGS = _entity(
    "conversion_tags",
    title="Conversion tags",
    description="Pinterest tags of the account, with status and when each last fired.",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/conversion_tags",
        operation_id="conversion_tags/list",
        paginated=False,
    ),
    fields=(
        _row("id", _S, "Conversion tag id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("name", _S, "Tag name."),
        _row("status", _S, "ACTIVE, PAUSED, ARCHIVED..."),
        _row("version", _S, "Tag version."),
        _row("last_fired_time_ms", _T, "When the tag last fired (UTC).", FieldEncoding.UNIX_MILLIS),
        _row("enhanced_match_status", _S, "Enhanced match validation status."),
        _json("configs", "Tag configuration as JSON."),
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "NAME", "STATUS", "LAST_FIRED_TIME_MS"),
    keywords=("pinterest tag", "pixel"),
)

CUSTOMER_LISTS = _entity(
    "customer_lists",
    title="Customer lists",
    description="Uploaded customer lists with record counts and status.",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/customer_lists",
        operation_id="customer_lists/list",
    ),
    fields=(
        _row("id", _S, "Customer list id."),
        _row("ad_account_id", _S, "Ad account id."),
        _row("name", _S, "Customer list name."),
        _row("status", _S, "PROCESSING, READY, TOO_SMALL or UPLOADING."),
        _row("num_batches", _I, "Uploaded batches."),
        _row("num_uploaded_user_records", _I, "Uploaded user records."),
        _row("num_removed_user_records", _I, "Removed user records."),
        *_CREATED_UPDATED,
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "NAME", "STATUS", "NUM_UPLOADED_USER_RECORDS"),
    keywords=("crm", "email list"),
)

PRODUCT_GROUP_PROMOTIONS = _entity(
    "product_group_promotions",
    title="Product group promotions",
    description="Product groups promoted in shopping ad groups (listed per ad group).",
    endpoint=ListEndpoint(
        path="/ad_accounts/{ad_account_id}/product_group_promotions",
        operation_id="product_group_promotions/list",
        params=_STATUSES,
        parent=ParentIteration(dataset="ad_groups", param="ad_group_id"),
    ),
    fields=(
        _row("id", _S, "Product group promotion id (the PRODUCT_GROUP_ID of analytics)."),
        _ACCOUNT_ID,
        _row("ad_group_id", _S, "Parent ad group id."),
        _row("catalog_product_group_id", _S, "Catalog product group id."),
        _row("catalog_product_group_name", _S, "Catalog product group name."),
        _row("status", _S, "ACTIVE, PAUSED, ARCHIVED..."),
        _row("bid_in_micro_currency", _I, "Bid in micro-units of the account currency."),
        _row("included", _B, "The product group is included (not excluded)."),
        _row("definition", _S, "Product group definition."),
        _row("creative_type", _S, "Creative type of the promotion."),
        _row("tracking_url", _S, "Tracking URL."),
    ),
    defaults=("ID", "AD_ACCOUNT_ID", "AD_GROUP_ID", "CATALOG_PRODUCT_GROUP_NAME", "STATUS"),
    keywords=("shopping", "catalog", "product groups"),
)

ENTITY_DATASETS: tuple[Dataset, ...] = (
    AD_ACCOUNTS,
    CAMPAIGNS,
    AD_GROUPS,
    ADS,
    KEYWORDS,
    AUDIENCES,
    CONVERSION_TAGS,
    CUSTOMER_LISTS,
    PRODUCT_GROUP_PROMOTIONS,
)
