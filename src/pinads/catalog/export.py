"""Plain JSON-ready views of datasets, for `--json` output and the web UI's JSON API."""

from __future__ import annotations

import dataclasses
from typing import Any

from pinads.catalog.model import Dataset

__all__ = ["dataset_details", "dataset_summary"]


def dataset_summary(dataset: Dataset) -> dict[str, Any]:
    """One line of a dataset picker: name, kind, level, breakdown, what it is for, counts."""
    return {
        "name": dataset.name,
        "kind": dataset.kind.value,
        "title": dataset.title,
        "description": dataset.description,
        "level": dataset.level,
        "targeting_type": dataset.breakdown.targeting_type if dataset.breakdown else None,
        "attributes": len(dataset.attributes),
        "metrics": len(dataset.metrics),
        "sync": dataset.sync is not None,
        "async": dataset.async_report is not None,
    }


def dataset_details(dataset: Dataset) -> dict[str, Any]:
    """Everything the catalog declares about a dataset, as JSON-ready values.

    Enums become their values (they are `str` subclasses); tuples become lists.
    """
    details: dict[str, Any] = dataclasses.asdict(dataset)
    return _plain(details)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)  # StrEnum members -> plain strings
    return value
