"""What a selection becomes in the destination: ordered columns, Arrow schema, natural key.

Columns are the lowercase API names (`date`, `campaign_id`, `spend_in_micro_dollar`). The key
columns of the granularity are always included, first, even when not selected, so an upsert
on the natural key is always possible.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from pinads.catalog.model import Attribute, AttributeSource, Dataset, Granularity, Metric
from pinads.errors import ConfigError

__all__ = [
    "arrow_schema",
    "entity_lookups",
    "key_attributes",
    "key_columns",
    "lookup_order",
    "output_attributes",
]


def _grain(granularity: str | Granularity) -> Granularity:
    return Granularity(str(granularity).upper())


def key_attributes(
    dataset: Dataset, granularity: str | Granularity = Granularity.DAY
) -> tuple[Attribute, ...]:
    """The natural key of rows at `granularity`: DATE only when dated, HOUR only when hourly."""
    grain = _grain(granularity)
    keys = (dataset.attributes_by_name[name] for name in dataset.key)
    return tuple(attr for attr in keys if not attr.granularities or grain in attr.granularities)


def key_columns(
    dataset: Dataset, granularity: str | Granularity = Granularity.DAY
) -> tuple[str, ...]:
    """Destination column names of the natural key (the upsert key)."""
    return tuple(attr.column for attr in key_attributes(dataset, granularity))


def _attribute(dataset: Dataset, name: str) -> Attribute:
    attr = dataset.attribute(name)
    if attr is None:
        raise ConfigError(
            f"{name} is not an attribute of {dataset.name}: run validate_selection first"
        )
    return attr


def _metric(dataset: Dataset, name: str) -> Metric:
    metric = dataset.metric(name)
    if metric is None:
        raise ConfigError(f"{name} is not a metric of {dataset.name}: run validate_selection first")
    return metric


def output_attributes(
    dataset: Dataset,
    attributes: Sequence[str],
    granularity: str | Granularity = Granularity.DAY,
) -> tuple[Attribute, ...]:
    """Key attributes first, then the selected ones in the order given, without repeats."""
    ordered = {attr.name: attr for attr in key_attributes(dataset, granularity)}
    for name in attributes:
        attr = _attribute(dataset, name)
        ordered.setdefault(attr.name, attr)
    return tuple(ordered.values())


def lookup_order(dataset: Dataset, attributes: Sequence[Attribute]) -> tuple[Attribute, ...]:
    """`attributes` plus the ones their entity lookups go through, each after its `via`.

    CAMPAIGN_NAME of an ad needs CAMPAIGN_ID, which comes from the ads list via AD_ID: the
    runner resolves the returned attributes in order and keeps only the selected ones.
    """
    done: dict[str, Attribute] = {}

    def visit(attr: Attribute) -> None:
        if attr.name in done:
            return
        if attr.source is AttributeSource.ENTITY and attr.via is not None:
            visit(dataset.attributes_by_name[attr.via])
        done[attr.name] = attr

    for attr in attributes:
        visit(attr)
    return tuple(done.values())


def entity_lookups(dataset: Dataset, attributes: Sequence[Attribute]) -> tuple[str, ...]:
    """Entity datasets the runner must list to fill `attributes` (e.g. campaigns, ad_groups)."""
    needed: dict[str, None] = {}
    for attr in lookup_order(dataset, attributes):
        if attr.source is AttributeSource.ENTITY and attr.entity is not None:
            needed[attr.entity] = None
    return tuple(needed)


def arrow_schema(
    dataset: Dataset,
    attributes: Sequence[str],
    metrics: Sequence[str] = (),
    *,
    granularity: str | Granularity = Granularity.DAY,
) -> pa.Schema:
    """Arrow schema of the rows a selection produces: key and attributes, then metrics.

    Key columns are not nullable; everything else is (Pinterest omits empty metrics).
    """
    keys = {attr.name for attr in key_attributes(dataset, granularity)}
    fields = [
        pa.field(attr.column, attr.type.arrow(), nullable=attr.name not in keys)
        for attr in output_attributes(dataset, attributes, granularity)
    ]
    seen = {field.name for field in fields}
    for name in metrics:
        metric = _metric(dataset, name)
        if metric.column not in seen:
            seen.add(metric.column)
            fields.append(pa.field(metric.column, metric.type.arrow(), nullable=True))
    return pa.schema(fields)
