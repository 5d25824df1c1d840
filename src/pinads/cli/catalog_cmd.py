"""`pinads datasets` and `pinads metrics`: browse what the catalog offers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pinads.catalog import (
    Attribute,
    Dataset,
    DatasetKind,
    Metric,
    get_dataset,
    search_datasets,
    search_metrics,
)
from pinads.catalog.export import dataset_details, dataset_summary

__all__ = ["register"]


def _console() -> Console:
    return Console(highlight=False)


def _level(dataset: Dataset) -> str:
    if dataset.breakdown is not None:
        return f"{dataset.level} x {dataset.breakdown.targeting_type}"
    return dataset.level or ""


# Below this width the level column is dropped: the dataset name already says it.
_WIDE = 110


def _datasets_table(datasets: Sequence[Dataset], *, with_level: bool = True) -> Table:
    table = Table(title=f"{len(datasets)} datasets", title_justify="left")
    # Names fold only on narrow terminals; the description takes the remaining width.
    table.add_column("name", overflow="fold", min_width=20, style="bold")
    table.add_column("kind", no_wrap=True)
    if with_level:
        table.add_column("level", overflow="fold", max_width=22)
    table.add_column("what it's for", overflow="fold", min_width=16)
    table.add_column("#metrics", justify="right", no_wrap=True)
    for dataset in datasets:
        level = [_level(dataset)] if with_level else []
        table.add_row(
            dataset.name,
            dataset.kind.value,
            *level,
            escape(dataset.description),
            str(len(dataset.metrics)),
        )
    return table


def _attributes_table(dataset: Dataset, attributes: Sequence[Attribute]) -> Table:
    table = Table(title=f"{dataset.name}: {len(attributes)} attributes", title_justify="left")
    table.add_column("attribute", no_wrap=True, style="bold")
    table.add_column("type", no_wrap=True)
    table.add_column("from", overflow="fold", max_width=24)
    table.add_column("description", overflow="fold", min_width=24)
    key = set(dataset.key)
    for attr in attributes:
        origin = attr.source.value
        if attr.entity is not None:
            origin = f"{attr.entity}.{attr.field}"
        name = f"{attr.name} (key)" if attr.name in key else attr.name
        table.add_row(name, attr.type.value, origin, escape(attr.description))
    return table


def _metrics_table(dataset: Dataset, metrics: Sequence[Metric]) -> Table:
    table = Table(title=f"{dataset.name}: {len(metrics)} metrics", title_justify="left")
    table.add_column("metric", no_wrap=True, style="bold")
    table.add_column("type", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("group", no_wrap=True)
    table.add_column("description", overflow="fold", min_width=24)
    for metric in metrics:
        notes = []
        if metric.is_conversion:
            notes.append("conversion")
        if not metric.in_sync:
            notes.append("async reports only")
        suffix = f" [{', '.join(notes)}]" if notes else ""
        table.add_row(
            metric.name,
            metric.type.value,
            metric.unit.value,
            metric.group,
            escape(metric.description + suffix),
        )
    return table


def _datasets(
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Words to find in names, attributes or metrics."),
    ] = None,
    kind: Annotated[
        DatasetKind | None, typer.Option("--kind", help="Only entity or analytics datasets.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the datasets a source can extract (find them by attribute or metric with --search)."""
    found = search_datasets(search or "")
    if kind is not None:
        found = [dataset for dataset in found if dataset.kind is kind]
    if as_json:
        typer.echo(json.dumps([dataset_summary(dataset) for dataset in found], indent=2))
        raise typer.Exit(0 if found else 1)
    console = _console()
    if not found:
        console.print(f"no dataset matches {escape(repr(search))}: try fewer or shorter words")
        raise typer.Exit(1)
    console.print(_datasets_table(found, with_level=console.width >= _WIDE))


def _metrics(
    dataset_name: Annotated[str, typer.Argument(metavar="DATASET", help="Dataset name.")],
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Words to find in metric names and descriptions."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print everything declared about DATASET as JSON.")
    ] = False,
) -> None:
    """Show the attributes and metrics DATASET offers, with types, units and descriptions."""
    dataset = get_dataset(dataset_name)
    if as_json:
        typer.echo(json.dumps(dataset_details(dataset), indent=2))
        return
    console = _console()
    console.print(
        f"[bold]{escape(dataset.title)}[/] ({dataset.kind.value}): {escape(dataset.description)}"
    )
    if search:
        words = search.upper().replace(" ", "_")
        attributes = [a for a in dataset.attributes if words in a.name]
        metrics = search_metrics(dataset, search)
    else:
        attributes, metrics = list(dataset.attributes), list(dataset.metrics)
    if attributes:
        console.print(_attributes_table(dataset, attributes))
    if dataset.kind is DatasetKind.ENTITY:
        console.print("entity dataset: attributes only, no metrics")
        return
    if metrics:
        console.print(_metrics_table(dataset, metrics))
    elif search:
        console.print(f"no metric of {dataset.name} matches {escape(repr(search))}")
        if not attributes:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `datasets` and `metrics` to the pinads CLI."""
    app.command("datasets")(_datasets)
    app.command("metrics")(_metrics)
