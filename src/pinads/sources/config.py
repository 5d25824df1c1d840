"""`SourceConfig`: what a source extracts, from where, to where, and when.

The model checks shapes only (types, known keys, value ranges); whether the names exist in the
catalog, the date range is reachable and the accounts are readable is `pinads.sources.validate`,
which reports every problem at once.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from pinads.catalog.model import Granularity
from pinads.load.registry import kinds_help
from pinads.sources.dates import parse_date_range
from pinads.sources.limits import MAX_LIST_ITEMS, MAX_NAME_CHARS, MAX_STRING_CHARS
from pinads.values import DateRange, DateRangeSpec, Schedule, WriteMode

__all__ = [
    "DEFAULT_METADATA",
    "AttributionWindow",
    "MetadataColumn",
    "SourceConfig",
    "destination_help",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def destination_help() -> str:
    """The destination field's help: the registered kinds' URL forms, and saved passwords."""
    return f"{kinds_help()}. A saved password is shown as ***; *** sent back keeps it."


class MetadataColumn(enum.StrEnum):
    """Columns pinads adds to every row (all prefixed `_pinads_` in the table)."""

    EXTRACTED_AT = "extracted_at"  # when the row was read from Pinterest (UTC)
    SOURCE_NAME = "source_name"  # the source that wrote it
    RUN_ID = "run_id"  # the run that wrote it
    ACCOUNT_CURRENCY = "account_currency"  # ISO 4217 currency of the row's ad account
    ACCOUNT_NAME = "account_name"  # name of the row's ad account

    @property
    def column(self) -> str:
        return _METADATA_COLUMNS[self]


_METADATA_COLUMNS = {
    MetadataColumn.EXTRACTED_AT: "_pinads_extracted_at",
    MetadataColumn.SOURCE_NAME: "_pinads_source",
    MetadataColumn.RUN_ID: "_pinads_run_id",
    MetadataColumn.ACCOUNT_CURRENCY: "_pinads_account_currency",
    MetadataColumn.ACCOUNT_NAME: "_pinads_account_name",
}

DEFAULT_METADATA: tuple[MetadataColumn, ...] = (
    MetadataColumn.EXTRACTED_AT,
    MetadataColumn.SOURCE_NAME,
    MetadataColumn.RUN_ID,
)

AttributionWindow = Literal[0, 1, 7, 14, 30, 60]


def _upper_names(value: Any) -> Any:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if isinstance(value, list | tuple):
        _check_names(value)
        return tuple(str(v).strip().upper() for v in value)
    return value


def _check_names(values: list[Any] | tuple[Any, ...]) -> None:
    """At most MAX_LIST_ITEMS short scalar names (checked before each is converted)."""
    if len(values) > MAX_LIST_ITEMS:
        raise ValueError(
            f"lists {len(values):,} names: at most {MAX_LIST_ITEMS:,} (no dataset offers more)"
        )
    for value in values:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError(f"{type(value).__name__} {_short(value)} is not a name: list names")
        if len(str(value)) > MAX_NAME_CHARS:
            raise ValueError(f"{_short(value)} is longer than {MAX_NAME_CHARS} characters")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _accounts(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "all":
        return "all"
    if isinstance(value, str | int):
        value = [value]
    if isinstance(value, list | tuple):
        _check_names(value)
        return tuple(str(v).strip() for v in value)
    return value


UpperNames = Annotated[tuple[str, ...], BeforeValidator(_upper_names)]


class SourceConfig(BaseModel):
    """A source: dataset + authorizer + accounts + columns + range + schedule + destination."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    name: str = Field(
        description="Unique name; also the destination table's name (lowercase, digits, _)."
    )
    dataset: str = Field(
        max_length=MAX_NAME_CHARS,
        description="Catalog dataset, e.g. campaign_analytics (`pinads datasets`).",
    )
    authorizer: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Label or id of the authorizer (`pinads auth list`).",
    )
    accounts: Annotated[Literal["all"] | tuple[str, ...], BeforeValidator(_accounts)] = Field(
        default="all", description="`all` ad accounts the authorizer can read, or a list of ids."
    )
    attributes: UpperNames = Field(
        default=(), description="Dimension columns (empty = the dataset's defaults)."
    )
    metrics: UpperNames = Field(
        default=(), description="Metric columns (empty = the dataset's defaults)."
    )
    granularity: Granularity = Field(
        default=Granularity.DAY, description="TOTAL, DAY, HOUR, WEEK or MONTH."
    )
    date_range: Annotated[DateRangeSpec, BeforeValidator(parse_date_range)] = Field(
        default="last_30_days",
        description="last_30_days, yesterday, this_month, ..., Dataddo-style 30d1, or "
        "{start: YYYY-MM-DD, end: YYYY-MM-DD}.",
    )
    metadata: tuple[MetadataColumn, ...] = Field(
        default=DEFAULT_METADATA,
        description="Extra `_pinads_` columns: extracted_at, source_name, run_id, "
        "account_currency, account_name.",
    )
    write_mode: WriteMode = Field(
        default=WriteMode.UPSERT,
        description="upsert | append | replace | insert_ignore (Dataddo's insert, insert "
        "ignore and truncate insert are read as append, insert_ignore and replace).",
    )
    destination: str = Field(
        default="duckdb",
        max_length=MAX_STRING_CHARS,
        description=destination_help(),
    )
    click_window_days: AttributionWindow = Field(
        default=30, description="Click attribution window (days)."
    )
    engagement_window_days: AttributionWindow = Field(
        default=30, description="Engagement window (days)."
    )
    view_window_days: AttributionWindow = Field(
        default=1, description="View attribution window (days)."
    )
    conversion_report_time: Literal["TIME_OF_AD_ACTION", "TIME_OF_CONVERSION"] = Field(
        default="TIME_OF_AD_ACTION",
        description="Book conversions on the day of the ad action (Ads Manager) or conversion.",
    )
    include_archived: bool = Field(
        default=True, description="Include archived campaigns, ad groups and ads (Ads Manager)."
    )
    schedule: Schedule | None = Field(
        default=None, description="When to run: hourly, daily 06:00, cron ...; none = manual."
    )
    allow_empty: bool = Field(
        default=False, description="Succeed when Pinterest returns no rows (else the run fails)."
    )
    lookback_days: int | None = Field(
        default=None,
        ge=0,
        le=90,
        description="Days re-read at every run for late conversions; default the largest "
        "attribution window.",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid source name: use 1-40 lowercase letters, digits and _, "
                "starting with a letter (it becomes the table name)"
            )
        return value

    @field_validator("dataset")
    @classmethod
    def _lower_dataset(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def effective_lookback_days(self) -> int:
        """Trailing days each scheduled run re-reads so late conversions are corrected."""
        if self.lookback_days is not None:
            return self.lookback_days
        return max(self.click_window_days, self.engagement_window_days, self.view_window_days)

    @property
    def is_rolling(self) -> bool:
        return not isinstance(self.date_range, DateRange)

    def to_document(self) -> dict[str, Any]:
        """The config as plain JSON-ready data (what `sources show` prints and the DB keeps)."""
        return self.model_dump(mode="json", exclude_defaults=False)
