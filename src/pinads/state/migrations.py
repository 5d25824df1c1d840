"""Versioned schema migrations of the control DB, applied on open.

Each step has a number and a description and is recorded in `schema_version` when applied.
All pending steps run in one transaction (DDL is transactional on SQLite and PostgreSQL), under
a lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock), so two
processes opening a fresh database at once never both migrate it.

Steps build tables from snapshots of the current definitions in `schema.py` minus the columns a
later step adds, so the current definitions stay the one place that names every column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pinads.errors import StateError
from pinads.state import schema
from pinads.state.db import redacted_url, utc_now

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "current_version", "migrate"]

# A fixed key for pg_advisory_xact_lock: "pinads" in ASCII.
_PG_LOCK_KEY = 0x70696E616473
_ADDED_IN_3: dict[str, tuple[str, ...]] = {"authorizers": ("revoked_at", "rate_tier")}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def _column(column: sa.Column[Any]) -> sa.Column[Any]:
    # `Column._copy` leaves the foreign keys behind (SQLAlchemy 2.1): without them a deleted
    # source's runs were never cascaded away. Databases made before version 4 lack them, so
    # deletions stay explicit too (`SourceRepository.delete`).
    copy = column._copy()
    for key in column.foreign_keys:
        copy.append_foreign_key(key._copy())
    return copy


def _snapshot(exclude: dict[str, tuple[str, ...]]) -> sa.MetaData:
    """Copies of every current table without the `exclude`d columns (added later)."""
    metadata = sa.MetaData()
    for table in schema.METADATA.sorted_tables:
        dropped = exclude.get(table.name, ())
        columns = [_column(c) for c in table.columns if c.name not in dropped]
        sa.Table(table.name, metadata, *columns)
    return metadata


def _create(
    conn: sa.Connection, names: Iterable[str], *, exclude: dict[str, tuple[str, ...]]
) -> None:
    metadata = _snapshot(exclude)
    metadata.create_all(conn, tables=[metadata.tables[name] for name in names], checkfirst=False)


def _add_columns(conn: sa.Connection, table: str, names: Iterable[str]) -> None:
    for name in names:
        column = schema.METADATA.tables[table].c[name]._copy()
        ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {ddl}"))


def _v1(conn: sa.Connection) -> None:
    _create(conn, ("authorizers", "sources"), exclude=_ADDED_IN_3)


def _v2(conn: sa.Connection) -> None:
    _create(conn, ("runs", "run_locks"), exclude=_ADDED_IN_3)


def _v3(conn: sa.Connection) -> None:
    _add_columns(conn, "authorizers", _ADDED_IN_3["authorizers"])
    _create(conn, ("backfill_progress",), exclude={})


def _v4(conn: sa.Connection) -> None:
    _create(conn, ("run_plans",), exclude={})
    # Rows of sources deleted before deletions were explicit: a new source given a deleted
    # one's id (SQLite reuses the highest) would inherit its history and its locks.
    known = sa.select(schema.SOURCES.c.id)
    for table in (schema.BACKFILL_PROGRESS, schema.RUN_LOCKS, schema.RUNS):
        conn.execute(table.delete().where(table.c.source_id.not_in(known)))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "authorizers and sources", _v1),
    Migration(2, "run history and run locks", _v2),
    Migration(3, "authorizer revocation and rate tier; backfill progress", _v3),
    Migration(4, "backfill plans (resumed step for step)", _v4),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: sa.Connection) -> int:
    """The highest applied version (0 for an empty database)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.SCHEMA_VERSION.c.version))).scalar()
    return int(value or 0)


def _lock(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def migrate(engine: sa.Engine, *, target: int = LATEST_VERSION) -> int:
    """Apply the pending steps up to `target`; return the version the database is at."""
    try:
        with engine.begin() as conn:
            _lock(conn)
            schema.SCHEMA_VERSION.create(conn, checkfirst=True)
            version = current_version(conn)
            if version > LATEST_VERSION:
                raise StateError(
                    f"the control DB {redacted_url(str(engine.url))} is at schema version "
                    f"{version}, newer than this pinads knows ({LATEST_VERSION}): upgrade pinads"
                )
            for step in MIGRATIONS:
                if version < step.version <= target:
                    step.apply(conn)
                    conn.execute(
                        schema.SCHEMA_VERSION.insert().values(
                            version=step.version,
                            description=step.description,
                            applied_at=utc_now(),
                        )
                    )
                    version = step.version
            return version
    except sa.exc.OperationalError as exc:
        raise StateError(
            f"cannot open the control DB {redacted_url(str(engine.url))} "
            f"({type(exc.orig).__name__}): check PINADS_DATABASE_URL / PINADS_HOME and that "
            "the database is reachable"
        ) from exc
