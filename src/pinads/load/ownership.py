"""Which tables pinads may write: only those it created.

A source is named freely and its table takes its name, so a source called like a table the
user already has would otherwise write into it (and a replace run would delete its rows).
SQL destinations therefore keep a registry, `_pinads_tables` beside `_pinads_checkpoints`: one
row per table pinads created (name, source, a random table id, when), and the table's COMMENT
carries the same id (`pinads:<id>`). A table is pinads' when the registry names it and its
comment still carries the id: a table dropped and created again under the same name by someone
else is not. Tables of earlier pinads versions, which had no registry, are adopted when pinads'
own checkpoints for them exist (pinads wrote them), never because their columns look right.

The registry row also keeps the table's grain (`TableSpec.grain`: level, granularity, key,
attribution settings), so a source deleted and created again under the same name with another
grain is refused instead of mixing rows of two meanings in one table (`check_grain`). A row
without one (written before grains were kept) takes the grain of the next write.

Checkpoints belong to one table: when pinads creates a table, those left by an earlier table of
that name (dropped since) are deleted with its registry row, so its steps run again. So are the
checkpoints of a table emptied by hand (DELETE FROM, TRUNCATE): no rows left where its
checkpoints recorded some.

The logic is written once over `TableCatalog`; duckdb_tables and postgres_tables implement it.
File destinations mark a dataset with its manifest instead (see files.py).
"""

from __future__ import annotations

import enum
import json
import uuid
from typing import Any, Protocol

from pinads.errors import ConfigError
from pinads.values import SHADOW_SUFFIX

__all__ = [
    "REGISTRY_TABLE",
    "GrainMismatchError",
    "Ownership",
    "TableCatalog",
    "check_grain",
    "claim_table",
    "forget_table",
    "ownership",
    "register_table",
    "reset_if_missing",
    "rows_moved",
    "table_moved",
]

REGISTRY_TABLE = "_pinads_tables"
_MARK = "pinads:"


class TableCatalog(Protocol):
    """What the ownership rules need of one SQL destination, inside its open transaction."""

    where: str  # "the DuckDB file /x.duckdb", "schema 'ads' of host:5432/db": for messages

    def exists(self, name: str) -> bool:
        """A table or view of that name exists."""

    def comment(self, name: str) -> str | None: ...

    def set_comment(self, name: str, text: str) -> None: ...

    def registered_id(self, name: str) -> str | None: ...

    def register(self, name: str, *, source: str, table_id: str, grain: str | None) -> None:
        """Replace the registry row of `name`."""

    def registered_grain(self, name: str) -> str | None: ...

    def set_grain(self, name: str, grain: str | None) -> None: ...

    def unregister(self, name: str) -> None: ...

    def rename_registration(self, old: str, new: str) -> None:
        """The registry row of `old` now names `new` (replacing any row of `new`)."""

    def checkpoint_count(self, name: str) -> int:
        """Checkpoints of table `name`."""

    def checkpoint_steps(self, name: str, scope: str) -> set[str]:
        """Step ids checkpointed for (table `name`, `scope`)."""

    def checkpoint_rows(self, name: str) -> int:
        """Rows the checkpoints of table `name` recorded as written, all scopes together."""

    def delete_checkpoints(self, name: str) -> None: ...

    def is_empty(self, name: str) -> bool: ...


class GrainMismatchError(ConfigError):
    """pinads' table holds rows of another grain than the source now reads."""


class Ownership(enum.Enum):
    ABSENT = "absent"  # no such table: pinads may create it
    OWNED = "owned"  # registered and marked
    ADOPTABLE = "adoptable"  # an earlier pinads version's table (its checkpoints exist)
    FOREIGN = "foreign"  # someone else's
    REPLACED = "replaced"  # registered, but the table there now lacks the mark


def mark(table_id: str) -> str:
    return f"{_MARK}{table_id}"


def ownership(catalog: TableCatalog, name: str) -> Ownership:
    """Whose table `name` is."""
    if not catalog.exists(name):
        return Ownership.ABSENT
    table_id = catalog.registered_id(name)
    if table_id is not None:
        comment = catalog.comment(name) or ""
        return Ownership.OWNED if mark(table_id) in comment else Ownership.REPLACED
    if catalog.checkpoint_count(name) > 0:
        return Ownership.ADOPTABLE
    # The shadow suffix is reserved to pinads; an empty one is a replace run that crashed before
    # its first step under an earlier version: nothing in it to lose.
    if name.endswith(SHADOW_SUFFIX) and catalog.is_empty(name):
        return Ownership.ADOPTABLE
    return Ownership.FOREIGN


def claim_table(catalog: TableCatalog, name: str, *, grain: str | None = None) -> bool:
    """Whether table `name` exists for pinads to write (adopting an earlier version's table);
    ConfigError, naming the table and what to do, if it exists and is not pinads', or (with
    `grain`) holds rows of another grain."""
    state = ownership(catalog, name)
    if state is Ownership.ADOPTABLE:
        _mark_table(catalog, name, uuid.uuid4().hex, grain)
        return True
    if state in (Ownership.FOREIGN, Ownership.REPLACED):
        raise refusal(catalog, name, state)
    if state is Ownership.OWNED and grain is not None:
        check_grain(catalog, name, grain)
        if catalog.registered_grain(name) is None:
            catalog.set_grain(name, grain)
    return state is Ownership.OWNED


def check_grain(catalog: TableCatalog, name: str, grain: str) -> None:
    """ConfigError if pinads' table `name` was created for rows of another grain."""
    kept = catalog.registered_grain(name)
    if kept is None or kept == grain:
        return
    live = name.removesuffix(SHADOW_SUFFIX)
    raise GrainMismatchError(
        f"table {name!r} in {catalog.where} holds rows of another grain than source {live!r} "
        f"now reads ({grain_difference(kept, grain)}), and pinads will not mix them in one "
        f"table; rebuild it with the new config (`pinads sources edit {live} --file FILE "
        "--rebuild`, or write_mode: replace for one run) or give the source another name (its "
        "table takes its name)"
    )


def grain_difference(before: str, after: str) -> str:
    """`field before -> after` for each field of two grains (JSON objects) that differs."""
    old, new = _grain_fields(before), _grain_fields(after)
    changed = [
        f"{field} {_shown(old.get(field))} -> {_shown(new.get(field))}"
        for field in sorted(old.keys() | new.keys())
        if old.get(field) != new.get(field)
    ]
    return "; ".join(changed) or "grain changed"


def _grain_fields(grain: str) -> dict[str, Any]:
    try:
        fields = json.loads(grain)
    except ValueError:
        return {"grain": grain}
    return fields if isinstance(fields, dict) else {"grain": grain}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "none" if value is None else str(value)


def refusal(catalog: TableCatalog, name: str, state: Ownership) -> ConfigError:
    live = name.removesuffix(SHADOW_SUFFIX)
    fix = (
        "rename the source (its table takes its name) or rename or drop that table"
        if name == live
        else "drop that table (its name is reserved to pinads' replace runs)"
    )
    if state is Ownership.REPLACED:
        table_id = catalog.registered_id(name) or ""
        return ConfigError(
            f"table {name!r} in {catalog.where} is no longer the table pinads created (its "
            f"comment lost pinads' mark {mark(table_id)!r}), so pinads will not write into it; "
            f"{fix}, or if it is pinads' table, restore its comment to {mark(table_id)!r}"
        )
    return ConfigError(
        f"table {name!r} already exists in {catalog.where} and pinads did not create it, so "
        f"pinads will not write into it; {fix}"
    )


def register_table(catalog: TableCatalog, name: str, *, grain: str | None = None) -> None:
    """Record a table pinads has just created (for rows of `grain`); checkpoints left by a
    dropped table of that name are deleted, so its steps run again."""
    catalog.delete_checkpoints(name)
    _mark_table(catalog, name, uuid.uuid4().hex, grain)


def _mark_table(catalog: TableCatalog, name: str, table_id: str, grain: str | None) -> None:
    source = name.removesuffix(SHADOW_SUFFIX)
    catalog.register(name, source=source, table_id=table_id, grain=grain)
    catalog.set_comment(
        name,
        f"{mark(table_id)} loaded by pinads from source {source}; keep this mark or pinads "
        "stops writing here",
    )


def table_moved(catalog: TableCatalog, old: str, new: str) -> None:
    """`old` was renamed to `new` (a replace run's shadow swapped in): its id and grain go
    with it."""
    catalog.rename_registration(old, new)


def rows_moved(catalog: TableCatalog, shadow: str, live: str) -> None:
    """A replace run's rows were moved from `shadow` into `live` (kept for its views and
    grants): `live` now holds rows of the shadow's grain."""
    catalog.set_grain(live, catalog.registered_grain(shadow))
    catalog.unregister(shadow)


def forget_table(catalog: TableCatalog, name: str) -> None:
    """pinads dropped table `name`: its registry row and checkpoints go too."""
    catalog.unregister(name)
    catalog.delete_checkpoints(name)


def reset_if_missing(catalog: TableCatalog, name: str, shadow: str, *, scope: str) -> set[str]:
    """If neither table `name` nor its replace shadow exists, forget the checkpoints (and
    registry rows) left for them; if one exists but was emptied by hand, forget its
    checkpoints. Return the step ids of `scope` forgotten."""
    if not (catalog.exists(name) or catalog.exists(shadow)):
        lost = catalog.checkpoint_steps(name, scope) | catalog.checkpoint_steps(shadow, scope)
        for table in (name, shadow):
            forget_table(catalog, table)
        return lost
    lost = set()
    for table in (name, shadow):
        if _emptied(catalog, table):
            lost |= catalog.checkpoint_steps(table, scope)
            catalog.delete_checkpoints(table)
    return lost


def _emptied(catalog: TableCatalog, name: str) -> bool:
    """Table `name` holds no row while its checkpoints say rows were written into it (a
    DELETE FROM or TRUNCATE by hand: its steps must run again, not be reported done)."""
    return catalog.exists(name) and catalog.checkpoint_rows(name) > 0 and catalog.is_empty(name)
