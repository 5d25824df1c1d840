"""The catalog's vocabulary: column types, units, attributes, metrics, datasets and problems.

Everything here is immutable data. Names keep Pinterest's spelling (`SPEND_IN_MICRO_DOLLAR`,
`CAMPAIGN_ID`); the destination column is the lowercase form (`spend_in_micro_dollar`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa

__all__ = [
    "AsyncReport",
    "Attribute",
    "AttributeSource",
    "Breakdown",
    "ColumnType",
    "Dataset",
    "DatasetKind",
    "FieldEncoding",
    "Granularity",
    "ListEndpoint",
    "Metric",
    "ParentIteration",
    "Problem",
    "SyncEndpoint",
    "Unit",
    "column_name",
]


def column_name(name: str) -> str:
    """Destination column for a catalog name: Pinterest's spelling in lowercase."""
    return name.lower()


class ColumnType(enum.StrEnum):
    """The Arrow type of a column's values."""

    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"
    DATE = "date32"
    TIMESTAMP = "timestamp[s, UTC]"

    def arrow(self) -> pa.DataType:
        """The pyarrow type."""
        return _ARROW[self]


_ARROW: dict[ColumnType, pa.DataType] = {
    ColumnType.INT64: pa.int64(),
    ColumnType.FLOAT64: pa.float64(),
    ColumnType.STRING: pa.string(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("s", tz="UTC"),
}


class Unit(enum.StrEnum):
    """What a metric's number measures."""

    COUNT = "count"
    MICRO_CURRENCY = "micro_currency"  # 1e-6 of the ad account's currency (not always USD)
    CURRENCY = "currency"  # whole units of the ad account's currency
    RATIO = "ratio"  # a fraction (0.012 = 1.2 %) or a multiple (ROAS, frequency)
    PERCENT = "percent"
    SECONDS = "seconds"


class DatasetKind(enum.StrEnum):
    ENTITY = "entity"
    ANALYTICS = "analytics"


class Granularity(enum.StrEnum):
    """Pinterest's `granularity` values (components.schemas.Granularity)."""

    TOTAL = "TOTAL"
    DAY = "DAY"
    HOUR = "HOUR"
    WEEK = "WEEK"
    MONTH = "MONTH"


class AttributeSource(enum.StrEnum):
    """Where the runner finds an attribute's value."""

    ROW = "row"  # a field of the API row: analytics row, targeting row or entity list item
    ACCOUNT = "account"  # a field of the ad account object (GET /ad_accounts)
    ENTITY = "entity"  # a field of an entity looked up by id (see Attribute.entity / .via)


class FieldEncoding(enum.StrEnum):
    """How the API spells a value that the catalog types differently."""

    PLAIN = "plain"  # the JSON value as is (ids as strings, numbers, booleans)
    UNIX_SECONDS = "unix_seconds"  # integer seconds since the epoch -> timestamp
    UNIX_MILLIS = "unix_millis"  # integer milliseconds since the epoch -> timestamp
    JSON = "json"  # an object or array, stored as its JSON text


@dataclass(frozen=True, slots=True)
class Attribute:
    """A dimension column: a date, an id, a name, a status, a targeting value...

    `source` and `field` say where the value comes from. For `ENTITY`, the value is
    `<entity dataset>.<field>` of the item whose id is the value of attribute `via` (which may
    itself be an ENTITY attribute: `CAMPAIGN_NAME` of an ad goes through `CAMPAIGN_ID`).
    """

    name: str
    type: ColumnType
    description: str
    source: AttributeSource
    field: str
    entity: str | None = None
    via: str | None = None
    encoding: FieldEncoding = FieldEncoding.PLAIN
    granularities: tuple[Granularity, ...] = ()  # empty = every granularity

    @property
    def column(self) -> str:
        return column_name(self.name)


@dataclass(frozen=True, slots=True)
class Metric:
    """A number Pinterest reports, requested by its `name` in the `columns` parameter."""

    name: str
    type: ColumnType
    unit: Unit
    description: str
    is_conversion: bool
    in_sync: bool  # allowed by the synchronous analytics endpoints
    in_async: bool  # allowed by async reports (POST /ad_accounts/{id}/reports)
    group: str = "other"  # picker section: spend, cost, delivery, clicks, engagement, video...

    @property
    def column(self) -> str:
        return column_name(self.name)


@dataclass(frozen=True, slots=True)
class ParentIteration:
    """An entity list that must be called once per parent item (keywords per ad group)."""

    dataset: str  # the parent entity dataset, e.g. "ad_groups"
    param: str  # query parameter taking the parent id, e.g. "ad_group_id"


@dataclass(frozen=True, slots=True)
class ListEndpoint:
    """How an entity dataset is listed."""

    path: str  # e.g. "/ad_accounts/{ad_account_id}/campaigns"
    operation_id: str  # Pinterest's operationId, e.g. "campaigns/list"
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()  # fixed query params (repeated keys)
    paginated: bool = True  # bookmark paging; conversion_tags returns one page
    parent: ParentIteration | None = None


@dataclass(frozen=True, slots=True)
class SyncEndpoint:
    """A synchronous analytics endpoint (GET, <= 90 days back, <= 90-day windows)."""

    path: str  # e.g. "/ad_accounts/{ad_account_id}/campaigns/analytics"
    operation_id: str
    id_param: str | None  # "campaign_ids" (<= MAX_IDS_PER_CALL per call); None for the account
    row_id_key: str  # the row field holding the entity id, e.g. "CAMPAIGN_ID"
    targeting_type: str | None = None  # value of `targeting_types` for targeting endpoints


@dataclass(frozen=True, slots=True)
class AsyncReport:
    """How the dataset is requested as an async report (history older than 90 days)."""

    level: str  # MetricsReportingLevel, e.g. "CAMPAIGN", "CAMPAIGN_TARGETING"
    id_filter: str | None  # body field filtering entity ids, e.g. "campaign_ids" (<= 500)
    row_id_key: str  # the row field holding the entity id (also the JSON report's first key)
    targeting_type: str | None = None  # value of `targeting_types` for *_TARGETING levels


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A targeting breakdown: our name for a Pinterest targeting type."""

    name: str  # e.g. "device"
    targeting_type: str  # Pinterest's name, e.g. "APPTYPE"
    title: str  # e.g. "Device (app type)"
    values: str  # what TARGETING_VALUE holds, with examples


@dataclass(frozen=True)
class Dataset:
    """One thing a source can extract: an entity list or an analytics table."""

    name: str
    kind: DatasetKind
    title: str
    description: str  # what it is for, one line
    attributes: tuple[Attribute, ...]
    metrics: tuple[Metric, ...]
    key: tuple[str, ...]  # attribute names of the natural key (DATE/HOUR only when granular)
    default_attributes: tuple[str, ...]
    default_metrics: tuple[str, ...] = ()
    level: str | None = None  # ad_account, campaign, ad_group, ad, product_group, keyword...
    list_endpoint: ListEndpoint | None = None  # entity datasets
    sync: SyncEndpoint | None = None  # analytics datasets with a synchronous endpoint
    async_report: AsyncReport | None = None  # analytics datasets with an async report level
    ids_from: str | None = None  # entity dataset whose ids are batched into the requests
    breakdown: Breakdown | None = None
    granularities: tuple[Granularity, ...] = ()
    max_days_back: int | None = None  # overrides for special levels (PRODUCT_ITEM)
    max_range_days: int | None = None
    keywords: tuple[str, ...] = field(default=())  # extra search words ("app type", "age")

    @cached_property
    def attributes_by_name(self) -> dict[str, Attribute]:
        return {attr.name: attr for attr in self.attributes}

    @cached_property
    def metrics_by_name(self) -> dict[str, Metric]:
        return {metric.name: metric for metric in self.metrics}

    def attribute(self, name: str) -> Attribute | None:
        return self.attributes_by_name.get(name.upper())

    def metric(self, name: str) -> Metric | None:
        return self.metrics_by_name.get(name.upper())

    @property
    def is_analytics(self) -> bool:
        return self.kind is DatasetKind.ANALYTICS


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a selection: which field, what to change, and close valid names."""

    field: str  # "metrics", "attributes", "granularity", "date_range", "click_window_days"...
    message: str
    suggestions: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"
