"""Control DBs of the hand-written control versions 1 to 4 (what wave 1 of pinads made) brought
to version 5, the one revision 0001 stands for, so they upgrade in place like any other.

What versions 2 to 5 did, in their order, inside the upgrade's transaction:
- 2: the run history and run locks; 3: authorizers' `revoked_at` and `rate_tier`, backfill
  progress; 4: backfill plans, and rows left by sources deleted before deletions were explicit
  removed (a new source given a deleted one's id would have inherited its history and locks);
- 5: destination passwords, stored in clear inside each source's config until then, encrypted
  with the installation's secret key (`sources.destination_enc`), the config keeping `***`.

Tables and columns come from revision 0001's own definitions, so the result is the same
schema that revision builds (a test compares it with `schema.py` after the full upgrade).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from pinads.state.migrations.versions import r0001_control_tables as revision_0001
from pinads.state.sealing import CipherFactory, DestinationSealer

__all__ = ["FIRST_ADOPTED", "bring_to_version_5"]

# The hand-written control version revision 0001 stands for.
FIRST_ADOPTED = 5


def bring_to_version_5(conn: sa.Connection, version: int, cipher: CipherFactory | None) -> int:
    """Apply what control versions `version + 1` to 5 changed (`version` is 0 to 4; 0: the
    version table exists but no step was recorded). Returns how many destination passwords
    it encrypted."""
    if not 0 <= version < FIRST_ADOPTED:
        raise ValueError(f"no bridge from control version {version}")
    with Operations.context(MigrationContext.configure(conn)) as ops:
        present = set(sa.inspect(conn).get_table_names())
        for name, create in revision_0001.TABLES.items():
            if name not in present:
                create()
        for table, column in _LATE_COLUMNS:
            if column().name not in _column_names(conn, table):
                ops.add_column(table, column())
    if version < _CLEANED_UP_IN:
        _drop_rows_of_deleted_sources(conn)
    return _seal_destination_passwords(conn, DestinationSealer(cipher))


# What versions 3 and 5 added to tables of version 1 (tables made later already have them).
_LATE_COLUMNS: tuple[tuple[str, Callable[[], sa.Column[Any]]], ...] = (
    ("authorizers", revision_0001.revoked_at),
    ("authorizers", revision_0001.rate_tier),
    ("sources", revision_0001.destination_enc),
)
# The version that removed rows of deleted sources.
_CLEANED_UP_IN = 4


def _column_names(conn: sa.Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(conn).get_columns(table)}


def _drop_rows_of_deleted_sources(conn: sa.Connection) -> None:
    known = sa.select(sa.column("id", sa.Integer)).select_from(sa.table("sources"))
    for name in ("backfill_progress", "run_locks", "runs"):
        table = sa.table(name, sa.column("source_id"))
        conn.execute(table.delete().where(table.c.source_id.not_in(known)))


def _seal_destination_passwords(conn: sa.Connection, sealer: DestinationSealer) -> int:
    sources = sa.table(
        "sources", sa.column("id"), sa.column("config", sa.JSON), sa.column("destination_enc")
    )
    count = 0
    for source_id, config in conn.execute(sa.select(sources.c.id, sources.c.config)).all():
        if not isinstance(config, dict):
            continue
        shown, sealed = sealer.seal(_as_document(config))
        if sealed is not None:
            conn.execute(
                sources.update()
                .where(sources.c.id == source_id)
                .values(config=shown, destination_enc=sealed)
            )
            count += 1
    return count


def _as_document(config: dict[Any, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in config.items()}
