"""The catalog: every dataset pinads can extract, typed, with the rules Pinterest enforces.

Pure data, no I/O: importing it reads nothing (the spec's column lists are generated into
`_spec_columns.py` by `scripts/gen_catalog_columns.py`; a test fails when they are stale).
Names keep Pinterest's spelling (`CAMPAIGN_ID`, `SPEND_IN_MICRO_DOLLAR`); destination columns
are their lowercase form (`column_name`).

Datasets (`DATASETS`, `get_dataset(name)`, `search_datasets(text)`)
    Entity datasets (`kind == ENTITY`): ad_accounts, campaigns, ad_groups, ads, keywords,
    audiences, conversion_tags, customer_lists, product_group_promotions. `list_endpoint` gives
    the path, operationId, fixed query params (all entity statuses, archived included), whether
    it pages, and `parent` when it is listed per parent item (keywords and product group
    promotions per ad group, via `ad_group_id`). Key: `ID`. Attributes are the response fields.

    Analytics datasets (`kind == ANALYTICS`): `<level>_analytics` for ad_account, campaign,
    ad_group, ad, product_group; product_item_analytics (async only, 92 days back);
    keyword_analytics (ad groups broken down by KEYWORD); and `<level>_by_<breakdown>` for every
    targeting type the level's endpoint accepts (`campaign_by_age_bucket`, `ad_by_device`...;
    `BREAKDOWNS` maps our names to Pinterest's: device = APPTYPE, audience = AUDIENCE_INCLUDE).
    Each has `sync` (GET path, operationId, id parameter such as `campaign_ids`, the row's id
    key such as `CAMPAIGN_ID`, `targeting_type`) and/or `async_report` (report `level` such as
    `CAMPAIGN` or `CAMPAIGN_TARGETING`, id filter, targeting type); `ids_from` is the entity
    dataset whose ids are batched into requests (<= MAX_IDS_PER_CALL per GET, ASYNC_MAX_IDS
    per report); `granularities`; `key` (AD_ACCOUNT_ID, entity id, DATE, HOUR
    [, TARGETING_TYPE, TARGETING_VALUE] - DATE/HOUR only where the granularity has them).

Attributes (`Dataset.attributes`, `Dataset.attribute(name)`)
    Each `Attribute` says where its value comes from: `ROW` (`field` of the API row: DATE,
    CAMPAIGN_ID, targeting_type, targeting_value; for entity datasets the item's field),
    `ACCOUNT` (`field` of the ad account: id, name, currency) or `ENTITY` (`field` of the item
    of entity dataset `entity` whose id is attribute `via`: CAMPAIGN_NAME = campaigns.name via
    CAMPAIGN_ID). `encoding` says how to convert (unix seconds/millis to timestamps, objects to
    JSON text). `lookup_order()` and `entity_lookups()` give the resolution order and the entity
    lists a selection needs.

Metrics (`Dataset.metrics`, `Dataset.metric(name)`, `search_metrics(dataset, text)`)
    From the spec's column enums. `Metric`: name, type (`ColumnType`, `.arrow()`: int64 for
    counts and micro-currency sums, float64 for rates, averages and *_IN_DOLLAR), unit, a
    one-line description, `is_conversion` (HOUR returns none), `in_sync` / `in_async` (which
    API can return it), `group` (picker section, `METRIC_GROUPS` in display order).
    Targeting breakdowns do not offer reach (unique users).

Rules (`validate_selection(...) -> list[Problem]`, `needs_async`, `date_limits`,
`default_attributes(dataset, granularity)`, `default_metrics(dataset, granularity)`)
    Every problem at once, each with `field`, a `message` saying what to change and
    `suggestions` (closest valid names). Limits and Ads Manager defaults are in `limits`
    (SYNC_MAX_DAYS_BACK, ASYNC_MAX_RANGE_DAYS, DEFAULT_CLICK_WINDOW_DAYS...).

Destination (`arrow_schema`, `key_columns`, `output_attributes`)
    The selection's Arrow schema (key columns first, not nullable), and the upsert key.

JSON (`dataset_summary`, `dataset_details`)
    Plain dicts for a web picker or `pinads datasets --json` / `pinads metrics DATASET --json`.
"""

from pinads.catalog import limits
from pinads.catalog.analytics import DEFAULT_METRICS
from pinads.catalog.breakdowns import BREAKDOWNS
from pinads.catalog.export import dataset_details, dataset_summary
from pinads.catalog.limits import (
    ASYNC_MAX_DAYS_BACK,
    ASYNC_MAX_IDS,
    ASYNC_MAX_RANGE_DAYS,
    ATTRIBUTION_WINDOW_DAYS,
    CONVERSION_REPORT_TIMES,
    DEFAULT_CLICK_WINDOW_DAYS,
    DEFAULT_CONVERSION_REPORT_TIME,
    DEFAULT_ENGAGEMENT_WINDOW_DAYS,
    DEFAULT_GRANULARITY,
    DEFAULT_VIEW_WINDOW_DAYS,
    ENTITY_STATUSES,
    HOUR_MAX_DAYS_BACK,
    HOUR_MAX_RANGE_DAYS,
    MAX_IDS_PER_CALL,
    PAGE_SIZE,
    PRODUCT_ITEM_MAX_DAYS_BACK,
    PRODUCT_ITEM_MAX_RANGE_DAYS,
    SYNC_MAX_DAYS_BACK,
    SYNC_MAX_RANGE_DAYS,
)
from pinads.catalog.metrics import ALL_METRICS, METRIC_GROUPS
from pinads.catalog.model import (
    AsyncReport,
    Attribute,
    AttributeSource,
    Breakdown,
    ColumnType,
    Dataset,
    DatasetKind,
    FieldEncoding,
    Granularity,
    ListEndpoint,
    Metric,
    ParentIteration,
    Problem,
    SyncEndpoint,
    Unit,
    column_name,
)
from pinads.catalog.registry import (
    DATASETS,
    close_names,
    get_dataset,
    search_datasets,
    search_metrics,
)
from pinads.catalog.rules import (
    DateLimits,
    date_limits,
    default_attributes,
    default_metrics,
    needs_async,
    validate_selection,
)
from pinads.catalog.schema import (
    arrow_schema,
    entity_lookups,
    key_attributes,
    key_columns,
    lookup_order,
    output_attributes,
)

__all__ = [
    "ALL_METRICS",
    "ASYNC_MAX_DAYS_BACK",
    "ASYNC_MAX_IDS",
    "ASYNC_MAX_RANGE_DAYS",
    "ATTRIBUTION_WINDOW_DAYS",
    "BREAKDOWNS",
    "CONVERSION_REPORT_TIMES",
    "DATASETS",
    "DEFAULT_CLICK_WINDOW_DAYS",
    "DEFAULT_CONVERSION_REPORT_TIME",
    "DEFAULT_ENGAGEMENT_WINDOW_DAYS",
    "DEFAULT_GRANULARITY",
    "DEFAULT_METRICS",
    "DEFAULT_VIEW_WINDOW_DAYS",
    "ENTITY_STATUSES",
    "HOUR_MAX_DAYS_BACK",
    "HOUR_MAX_RANGE_DAYS",
    "MAX_IDS_PER_CALL",
    "METRIC_GROUPS",
    "PAGE_SIZE",
    "PRODUCT_ITEM_MAX_DAYS_BACK",
    "PRODUCT_ITEM_MAX_RANGE_DAYS",
    "SYNC_MAX_DAYS_BACK",
    "SYNC_MAX_RANGE_DAYS",
    "AsyncReport",
    "Attribute",
    "AttributeSource",
    "Breakdown",
    "ColumnType",
    "Dataset",
    "DatasetKind",
    "DateLimits",
    "FieldEncoding",
    "Granularity",
    "ListEndpoint",
    "Metric",
    "ParentIteration",
    "Problem",
    "SyncEndpoint",
    "Unit",
    "arrow_schema",
    "close_names",
    "column_name",
    "dataset_details",
    "dataset_summary",
    "date_limits",
    "default_attributes",
    "default_metrics",
    "entity_lookups",
    "get_dataset",
    "key_attributes",
    "key_columns",
    "limits",
    "lookup_order",
    "needs_async",
    "output_attributes",
    "search_datasets",
    "search_metrics",
    "validate_selection",
]
