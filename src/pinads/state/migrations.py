"""Versioned schema migrations of the control DB, applied on open.

Each step has a number and a description and is recorded in `schema_version` when applied.
All pending steps run in one transaction (DDL is transactional on SQLite and PostgreSQL), under
a lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock), so two
processes opening a fresh database at once never both migrate it.

The web's tables (users, API tokens, sessions, login failures, audit log) are versioned apart,
in `web_schema_version`, and migrated in the same transaction.

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
from pinads.state.sealing import CipherFactory, DestinationSealer

__all__ = [
    "LATEST_VERSION",
    "LATEST_WEB_VERSION",
    "MIGRATIONS",
    "Migration",
    "current_version",
    "migrate",
]

# A fixed key for pg_advisory_xact_lock: "pinads" in ASCII.
_PG_LOCK_KEY = 0x70696E616473
_ADDED_IN_3: dict[str, tuple[str, ...]] = {"authorizers": ("revoked_at", "rate_tier")}
_ADDED_IN_5: dict[str, tuple[str, ...]] = {"sources": ("destination_enc",)}
# What tables made before version 3 lack (each step's `exclude`).
_ADDED_AFTER_2 = {**_ADDED_IN_3, **_ADDED_IN_5}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    # The sealer encrypts what a step must not leave in clear (destination passwords).
    apply: Callable[[sa.Connection, DestinationSealer], None]


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


def _v1(conn: sa.Connection, _sealer: DestinationSealer) -> None:
    _create(conn, ("authorizers", "sources"), exclude=_ADDED_AFTER_2)


def _v2(conn: sa.Connection, _sealer: DestinationSealer) -> None:
    _create(conn, ("runs", "run_locks"), exclude=_ADDED_AFTER_2)


def _v3(conn: sa.Connection, _sealer: DestinationSealer) -> None:
    _add_columns(conn, "authorizers", _ADDED_IN_3["authorizers"])
    _create(conn, ("backfill_progress",), exclude={})


def _v4(conn: sa.Connection, _sealer: DestinationSealer) -> None:
    _create(conn, ("run_plans",), exclude={})
    # Rows of sources deleted before deletions were explicit: a new source given a deleted
    # one's id (SQLite reuses the highest) would inherit its history and its locks.
    known = sa.select(schema.SOURCES.c.id)
    for table in (schema.BACKFILL_PROGRESS, schema.RUN_LOCKS, schema.RUNS):
        conn.execute(table.delete().where(table.c.source_id.not_in(known)))


def _v5(conn: sa.Connection, sealer: DestinationSealer) -> None:
    _add_columns(conn, "sources", _ADDED_IN_5["sources"])
    # Destination passwords were stored in clear inside `config`: encrypt them now.
    sources = schema.SOURCES
    for source_id, config in conn.execute(sa.select(sources.c.id, sources.c.config)).all():
        if not isinstance(config, dict):
            continue
        shown, sealed = sealer.seal(config)
        if sealed is not None:
            conn.execute(
                sources.update()
                .where(sources.c.id == source_id)
                .values(config=shown, destination_enc=sealed)
            )


def _v6(conn: sa.Connection, _sealer: DestinationSealer) -> None:
    _create(conn, ("slot_claims", "scheduler_leases"), exclude={})


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "authorizers and sources", _v1),
    Migration(2, "run history and run locks", _v2),
    Migration(3, "authorizer revocation and rate tier; backfill progress", _v3),
    Migration(4, "backfill plans (resumed step for step)", _v4),
    Migration(5, "destination passwords encrypted", _v5),
    Migration(6, "scheduler lease and slot claims", _v6),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: sa.Connection) -> int:
    """The highest applied version (0 for an empty database)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.SCHEMA_VERSION.c.version))).scalar()
    return int(value or 0)


def _web_v1(conn: sa.Connection) -> None:
    schema.METADATA.create_all(conn, tables=[schema.USERS, schema.API_TOKENS], checkfirst=True)


def _web_v2(conn: sa.Connection) -> None:
    tables = [schema.WEB_SESSIONS, schema.LOGIN_FAILURES, schema.AUDIT_LOG]
    schema.METADATA.create_all(conn, tables=tables, checkfirst=True)


def _web_v3(conn: sa.Connection) -> None:
    """Roles and disabling of users, role and expiry of API tokens (users made before roles
    become admins: the column's default); notification channels and alerts sent."""
    inspector = sa.inspect(conn)
    added = {"users": ("role", "disabled_at"), "api_tokens": ("role", "expires_at")}
    for table, names in added.items():
        # Tables made by version 1 of this pinads already have them (built from schema.py).
        have = {column["name"] for column in inspector.get_columns(table)}
        _add_columns(conn, table, [name for name in names if name not in have])
    tables = [schema.NOTIFICATION_CHANNELS, schema.NOTIFICATIONS_SENT]
    schema.METADATA.create_all(conn, tables=tables, checkfirst=True)


WEB_MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = (
    (1, _web_v1),
    (2, _web_v2),
    (3, _web_v3),
)
LATEST_WEB_VERSION = WEB_MIGRATIONS[-1][0]


def _migrate_web(conn: sa.Connection, url: str) -> None:
    table = schema.WEB_SCHEMA_VERSION
    table.create(conn, checkfirst=True)
    current = int(conn.execute(sa.select(sa.func.max(table.c.version))).scalar() or 0)
    if current > LATEST_WEB_VERSION:
        raise StateError(
            f"the control DB {url} has web tables at version {current}, newer than this "
            "pinads knows: upgrade pinads"
        )
    for number, step in WEB_MIGRATIONS:
        if number > current:
            step(conn)
            conn.execute(table.insert().values(version=number, applied_at=utc_now()))


def _lock(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _scrub(engine: sa.Engine) -> None:
    """After secrets were encrypted in place: copy SQLite's write-ahead log into the file and
    empty it, so no page that held them in clear stays behind (freed space is zeroed by
    `secure_delete`). PostgreSQL keeps dead row versions until VACUUM reuses them."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside a transaction, which a checkpoint needs
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def migrate(
    engine: sa.Engine, *, target: int = LATEST_VERSION, cipher: CipherFactory | None = None
) -> int:
    """Apply the pending steps up to `target`; return the version the database is at.
    `cipher` encrypts the secrets a step moves out of clear text (needed only if there are)."""
    sealer = DestinationSealer(cipher)
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
                    step.apply(conn, sealer)
                    conn.execute(
                        schema.SCHEMA_VERSION.insert().values(
                            version=step.version,
                            description=step.description,
                            applied_at=utc_now(),
                        )
                    )
                    version = step.version
            _migrate_web(conn, redacted_url(str(engine.url)))
        if sealer.sealed:
            _scrub(engine)
        return version
    except sa.exc.OperationalError as exc:
        raise StateError(
            f"cannot open the control DB {redacted_url(str(engine.url))} "
            f"({type(exc.orig).__name__}): check PINADS_DATABASE_URL / PINADS_HOME and that "
            "the database is reachable"
        ) from exc
