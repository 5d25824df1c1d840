"""The destination table of a source: columns and key derived from the catalog and the config.

Columns are the selected attributes, then the metrics, then pinads' own `_pinads_` columns.
Analytics tables always carry the attribution settings (click, engagement and view windows and
the conversion report time) as key columns, so rows read with different windows never overwrite
each other; TOTAL tables carry the range they total, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from pinads.catalog.model import Attribute, Dataset, Granularity, Metric
from pinads.sources.config import MetadataColumn, SourceConfig
from pinads.values import ColumnSpec, TableSpec

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "RANGE_COLUMNS",
    "Selection",
    "build_table_spec",
    "resolve_selection",
]

ATTRIBUTION_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_pinads_click_window_days", pa.int64()),
    ("_pinads_engagement_window_days", pa.int64()),
    ("_pinads_view_window_days", pa.int64()),
    ("_pinads_conversion_report_time", pa.string()),
)
RANGE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_pinads_range_start", pa.date32()),
    ("_pinads_range_end", pa.date32()),
)
_METADATA_TYPES: dict[MetadataColumn, pa.DataType] = {
    MetadataColumn.EXTRACTED_AT: pa.timestamp("us", tz="UTC"),
    MetadataColumn.SOURCE_NAME: pa.string(),
    MetadataColumn.RUN_ID: pa.string(),
    MetadataColumn.ACCOUNT_CURRENCY: pa.string(),
    MetadataColumn.ACCOUNT_NAME: pa.string(),
}


@dataclass(frozen=True, slots=True)
class Selection:
    """The catalog objects a source selects, key attributes included, in table order."""

    dataset: Dataset
    attributes: tuple[Attribute, ...]
    metrics: tuple[Metric, ...]
    granularity: Granularity
    key: tuple[str, ...]  # column names


def _time_allowed(attr: Attribute, granularity: Granularity) -> bool:
    return not attr.granularities or granularity in attr.granularities


def resolve_selection(config: SourceConfig, dataset: Dataset) -> Selection:
    """Attributes and metrics of a validated config (defaults when empty, key ones added)."""
    granularity = config.granularity if dataset.is_analytics else Granularity.TOTAL
    names = list(config.attributes or dataset.default_attributes)
    key_names = [
        name
        for name in dataset.key
        if (attr := dataset.attribute(name)) is not None
        and (not dataset.is_analytics or _time_allowed(attr, granularity))
    ]
    if granularity is Granularity.HOUR and dataset.attribute("HOUR") and "HOUR" not in key_names:
        key_names.append("HOUR")
    for name in reversed(key_names):
        if name not in names:
            names.insert(0, name)
    attributes = tuple(
        attr
        for name in names
        if (attr := dataset.attribute(name)) is not None
        and (not dataset.is_analytics or _time_allowed(attr, granularity))
    )
    metric_names = config.metrics or dataset.default_metrics
    metrics = tuple(m for name in metric_names if (m := dataset.metric(name)) is not None)
    key = tuple(dataset.attributes_by_name[name].column for name in key_names)
    return Selection(dataset, attributes, metrics, granularity, key)


def build_table_spec(config: SourceConfig, selection: Selection) -> TableSpec:
    """The TableSpec the runner writes (named after the source)."""
    columns = [ColumnSpec(name=a.column, arrow_type=a.type.arrow()) for a in selection.attributes]
    columns += [ColumnSpec(name=m.column, arrow_type=m.type.arrow()) for m in selection.metrics]
    key = list(selection.key)
    if selection.dataset.is_analytics:
        columns += [
            ColumnSpec(name=n, arrow_type=t, nullable=False) for n, t in ATTRIBUTION_COLUMNS
        ]
        key += [name for name, _ in ATTRIBUTION_COLUMNS]
        if selection.granularity is Granularity.TOTAL:
            columns += [ColumnSpec(name=n, arrow_type=t, nullable=False) for n, t in RANGE_COLUMNS]
            key += [name for name, _ in RANGE_COLUMNS]
    columns += [
        ColumnSpec(name=item.column, arrow_type=_METADATA_TYPES[item])
        for item in dict.fromkeys(config.metadata)
    ]
    return TableSpec(name=config.name, columns=tuple(columns), key=tuple(key))
