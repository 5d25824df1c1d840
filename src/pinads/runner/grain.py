"""Edits that change a table's grain: what a row of the source's table is, and means.

A source's table is written run after run on its key (upsert), so its rows must keep one
meaning: one row per (account, entity, day) read with one set of attribution settings. An edit
that changes that (the level, the granularity, the key columns, the attribution settings,
fewer accounts or entities, snapshot vs keyed rows, another destination) would mix rows of two
meanings in one table: weekly totals next to daily rows, a second copy of every row under new
attribution settings (sums double), rows nobody updates any more. Such an edit is refused for a
table that already holds rows, unless it is done as a rebuild (`pinads.runner.rebuild`).

Edits that keep the grain stay free: metrics, metadata columns, non-key attributes, schedule,
date range, lookback, allow_empty, more accounts, authorizer.

The grain is also kept with the table itself (`table_grain`, stored by the destination with
the table it creates: `TableSpec.grain`), so a source deleted and created again under the same
name with another grain is refused by the destination at its first run, where no saved config
is left to compare with.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pinads.catalog import get_dataset
from pinads.errors import ConfigError
from pinads.extract.table import build_table_spec, resolve_selection
from pinads.secret_urls import redact_url
from pinads.sources.config import SourceConfig
from pinads.values import RunKind, WriteMode

__all__ = [
    "GrainChange",
    "TableGrainError",
    "grain_changes",
    "grain_to_check",
    "refusal_message",
    "table_grain",
]


@dataclass(frozen=True, slots=True)
class GrainChange:
    """One field whose change alters what the table's rows are."""

    field: str
    before: str
    after: str
    harm: str  # what writing the new config into the existing table would do to it

    def describe(self) -> str:
        return f"{self.field} ({self.before} -> {self.after}: {self.harm})"


class TableGrainError(ConfigError):
    """An edit would change the grain of a table that already holds rows."""

    def __init__(self, message: str, *, changes: Sequence[GrainChange]) -> None:
        super().__init__(message)
        self.changes = tuple(changes)


def _listed(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _shown(url: str) -> str:
    """A destination URL without its secrets (messages are shown and logged)."""
    return redact_url(url)


def _accounts(config: SourceConfig) -> str:
    return "all" if config.accounts == "all" else _listed(config.accounts)


def _table(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    changes = []
    if old.name != new.name:
        changes.append(
            GrainChange(
                "name",
                old.name,
                new.name,
                "the source would write another table, and the old one would never be updated "
                "again",
            )
        )
    # A new password is the same destination: only where the rows go counts.
    if _shown(old.destination) != _shown(new.destination):
        changes.append(
            GrainChange(
                "destination",
                _shown(old.destination),
                _shown(new.destination),
                "the new destination would hold only what the next runs read, the old one "
                "would never be updated again",
            )
        )
    return changes


def _level(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    changes = []
    if old.dataset != new.dataset:
        changes.append(
            GrainChange(
                "dataset",
                old.dataset,
                new.dataset,
                "rows of another report level would be mixed with the existing ones",
            )
        )
    elif old.granularity != new.granularity and get_dataset(new.dataset).is_analytics:
        before, after = old.granularity.value, new.granularity.value
        changes.append(
            GrainChange(
                "granularity",
                before,
                after,
                f"{after} totals would be written next to the {before} rows, so any sum over "
                "the table would count the same days twice",
            )
        )
    return changes


def _key(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    """Key columns that come and go with the attributes (same dataset and granularity)."""
    if old.dataset != new.dataset or old.granularity != new.granularity:
        return []
    try:
        dataset = get_dataset(new.dataset)
    except ConfigError:
        return []
    before = build_table_spec(old, resolve_selection(old, dataset)).key
    after = build_table_spec(new, resolve_selection(new, dataset)).key
    if before == after:
        return []
    return [
        GrainChange(
            "attributes",
            f"key {_listed(before)}",
            f"key {_listed(after)}",
            "rows could not be matched to the existing ones: each would be written again "
            "next to its old copy",
        )
    ]


_ATTRIBUTION = (
    "click_window_days",
    "engagement_window_days",
    "view_window_days",
    "conversion_report_time",
)


def _attribution(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    if not get_dataset(new.dataset).is_analytics or old.dataset != new.dataset:
        return []
    return [
        GrainChange(
            name,
            str(getattr(old, name)),
            str(getattr(new, name)),
            "attribution settings are key columns: every row would be written a second time "
            "with the new settings, so sums over the table would double",
        )
        for name in _ATTRIBUTION
        if getattr(old, name) != getattr(new, name)
    ]


def _coverage(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    """Fewer accounts or entities: their rows would stay, never updated again."""
    changes = []
    removed = new.accounts != "all" and (
        old.accounts == "all" or not set(old.accounts) <= set(new.accounts)
    )
    if removed:
        changes.append(
            GrainChange(
                "accounts",
                _accounts(old),
                _accounts(new),
                "the rows of the accounts left out would stay in the table, never updated again",
            )
        )
    if old.include_archived and not new.include_archived:
        changes.append(
            GrainChange(
                "include_archived",
                "true",
                "false",
                "the rows of archived campaigns, ad groups and ads would stay in the table, "
                "never updated again",
            )
        )
    return changes


def _snapshots(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    """append keeps a row per snapshot; the other modes keep one row per key."""
    if (old.write_mode is WriteMode.APPEND) == (new.write_mode is WriteMode.APPEND):
        return []
    return [
        GrainChange(
            "write_mode",
            old.write_mode.value,
            new.write_mode.value,
            "append keeps a copy of every row at every run, the other modes one row per key: "
            "the table would hold rows of both kinds",
        )
    ]


_CHECKS: tuple[Callable[[SourceConfig, SourceConfig], list[GrainChange]], ...] = (
    _table,
    _level,
    _key,
    _attribution,
    _coverage,
    _snapshots,
)


def grain_changes(old: SourceConfig, new: SourceConfig) -> list[GrainChange]:
    """The fields whose change from `old` to `new` alters what the table's rows are. None in
    replace mode: each of its runs builds the whole table anew and swaps it in, so the next
    run leaves only rows of the new config."""
    if new.write_mode is WriteMode.REPLACE:
        return []
    return [change for check in _CHECKS for change in check(old, new)]


def refusal_message(name: str, changes: Sequence[GrainChange]) -> str:
    """One line: which fields changed, why that corrupts the table, and the two ways on."""
    fields = "; ".join(change.describe() for change in changes)
    return (
        f"source {name!r} has already written its table {name!r}, and this edit changes what "
        f"its rows are - {fields}. The edit is not saved. Either create a new source with this "
        f"config (a new table; the old one stays as it is), or rebuild the table: it is filled "
        f"again from Pinterest with the new config over the days it holds, and swapped in only "
        f"when complete (`pinads sources edit {name} --file FILE --rebuild`; on the web, tick "
        f'"Rebuild the table"; in the API, "rebuild": true)'
    )


def table_grain(config: SourceConfig, key: Sequence[str] | None = None) -> str:
    """What a row of the source's table is, as JSON (`TableSpec.grain`): its level (dataset),
    key columns, snapshots or one row per key, and for analytics the granularity and the
    attribution settings (values of key columns: two settings would give two copies of every
    row). `key`: the table's key when the caller has built its spec already."""
    dataset = get_dataset(config.dataset)
    if key is None:
        key = build_table_spec(config, resolve_selection(config, dataset)).key
    fields: dict[str, object] = {
        "dataset": config.dataset,
        "key": list(key),
        "rows": "snapshots" if config.write_mode is WriteMode.APPEND else "one per key",
    }
    if dataset.is_analytics:
        fields["granularity"] = config.granularity.value
        fields |= {name: getattr(config, name) for name in _ATTRIBUTION}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def grain_to_check(config: SourceConfig, kind: RunKind) -> str | None:
    """The grain a run must find in the table it writes; None for a run that replaces the
    table (a rebuild, write_mode replace): its new table takes the new grain."""
    if kind is RunKind.REBUILD or config.write_mode is WriteMode.REPLACE:
        return None
    return table_grain(config)
