"""The wizard's attributes & metrics step: a searchable picker grouped by metric family, the
"Selected (n)" chips, names pasted from another tool (sorted into attributes and metrics, with
the closest valid name offered for a misspelt one) and the chips' remove and replace buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from pinads.catalog import (
    DATASETS,
    METRIC_GROUPS,
    Dataset,
    Metric,
    close_names,
    default_attributes,
    default_metrics,
)
from pinads.web.common import form_list, form_text

__all__ = ["apply_columns", "columns_values", "edit_columns", "is_column_edit"]

KINDS = ("attributes", "metrics")
# Conversions are most of a dataset's metrics (457 of 564): split by where they happened.
_CHANNELS = (
    ("web", "Conversions · web", re.compile(r"(^|_)WEB_")),
    ("inapp", "Conversions · in-app", re.compile(r"INAPP")),
    ("offline", "Conversions · offline", re.compile(r"OFFLINE")),
)


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    metrics: list[Metric]
    chosen: int


@dataclass(frozen=True)
class Chip:
    kind: str  # attributes | metrics
    name: str
    known: bool


@dataclass(frozen=True)
class Unknown:
    kind: str
    name: str
    suggestion: str
    suggestion_kind: str


def _dataset(draft: dict[str, Any]) -> Dataset | None:
    return DATASETS.get(str(draft.get("dataset", "")))


def _family(metric: Metric) -> tuple[str, str]:
    if metric.group != "conversions":
        return metric.group, metric.group.capitalize()
    for key, title, pattern in _CHANNELS:
        if pattern.search(metric.name):
            return f"conversions-{key}", title
    return "conversions", "Conversions · all channels"


def _groups(dataset: Dataset, chosen: set[str]) -> list[Group]:
    order = [*METRIC_GROUPS, "more"]
    found: dict[str, tuple[str, list[Metric]]] = {}
    for metric in dataset.metrics:
        key, title = _family(metric)
        found.setdefault(key, (title, []))[1].append(metric)

    def rank(key: str) -> int:
        base = key.split("-", maxsplit=1)[0]
        return order.index(base) if base in order else len(order)

    return [
        Group(key, title, metrics, sum(m.name in chosen for m in metrics))
        for key, (title, metrics) in sorted(found.items(), key=lambda item: rank(item[0]))
    ]


def _suggestion(dataset: Dataset, name: str) -> tuple[str, str]:
    """The closest valid name to a misspelt one, among attributes and metrics both."""
    names = {a.name: "attributes" for a in dataset.attributes}
    names.update({m.name: "metrics" for m in dataset.metrics})
    close = close_names(name, names, limit=1)
    return (close[0], names[close[0]]) if close else ("", "")


def _known(dataset: Dataset, kind: str, name: str) -> bool:
    found = dataset.attribute(name) if kind == "attributes" else dataset.metric(name)
    return found is not None


def columns_values(ctx: Any, draft: dict[str, Any], query: str) -> dict[str, Any]:
    dataset = _dataset(draft)
    if dataset is None:
        return {}
    granularity = str(draft.get("granularity") or "DAY")
    attributes = draft.get("attributes") or list(default_attributes(dataset, granularity))
    metrics = draft.get("metrics")
    if metrics is None:
        metrics = list(default_metrics(dataset, granularity))
    chips = [
        Chip(kind, name, _known(dataset, kind, name))
        for kind, names in zip(KINDS, (attributes, metrics), strict=True)
        for name in names
    ]
    unknown = [Unknown(c.kind, c.name, *_suggestion(dataset, c.name)) for c in chips if not c.known]
    return {
        "dataset": dataset,
        "chosen_attributes": set(attributes),
        "chosen_metrics": set(metrics),
        "granularity": granularity,
        "metric_groups": _groups(dataset, set(metrics)),
        "chips": chips,
        "unknown": unknown,
    }


def apply_columns(form: FormData, draft: dict[str, Any]) -> None:
    attributes, metrics = form_list(form, "attributes"), form_list(form, "metrics")
    # Names pasted from another tool: attributes where the dataset has one of that name; a
    # misspelt name goes with its closest valid name's kind (explained, with a "Use" button).
    dataset = _dataset(draft)
    for name in re.split(r"[,\s]+", form_text(form, "more_columns").upper()):
        if not name or name in attributes or name in metrics:
            continue
        if dataset is not None and dataset.attribute(name):
            attributes.append(name)
        elif dataset is not None and not dataset.metric(name):
            kind = _suggestion(dataset, name)[1] or "metrics"
            (attributes if kind == "attributes" else metrics).append(name)
        else:
            metrics.append(name)
    draft["attributes"], draft["metrics"] = attributes, metrics
    granularity = form_text(form, "granularity")
    if granularity:
        draft["granularity"] = granularity


def is_column_edit(nav: str) -> bool:
    return nav == "add" or nav.startswith(("remove:", "replace:"))


def edit_columns(nav: str, draft: dict[str, Any]) -> None:
    """A chip's remove button (remove:KIND:NAME) or a suggestion's Use button
    (replace:KIND:NAME:NEWKIND:NEWNAME); "add" only takes the pasted names (done already)."""
    parts = nav.split(":")
    if parts[0] == "remove" and len(parts) == 3 and parts[1] in KINDS:
        draft[parts[1]] = [n for n in draft.get(parts[1]) or [] if n != parts[2]]
    if parts[0] == "replace" and len(parts) == 5 and {parts[1], parts[3]} <= set(KINDS):
        draft[parts[1]] = [n for n in draft.get(parts[1]) or [] if n != parts[2]]
        target = list(draft.get(parts[3]) or [])
        if parts[4] not in target:
            target.append(parts[4])
        draft[parts[3]] = target
