"""Control DBs of the hand-written control versions 1 to 4 (what wave 1 of pinads made) brought
to version 5, the one revision 0001 stands for, so they upgrade in place like any other.

What versions 2 to 5 did, in their order, inside the upgrade's transaction:
- 2: the run history and run locks; 3: authorizers' `revoked_at` and `rate_tier`, backfill
  progress; 4: backfill plans, and rows left by sources deleted before deletions were explicit
  removed (a new source given a deleted one's id would have inherited its history and locks);
- 5: destination passwords, stored in clear inside each source's config until then, encrypted
  with the installation's secret key (`sources.destination_enc`), the config keeping `***`.

Tables and columns come from revision 0001's own definitions, so the result is the same
schema that revision builds (a test compares it with `schema.py` after the full upgrade). One
difference stays on SQLite: tables made by versions 1 to 3 have no foreign keys, and SQLite adds
one only by rebuilding the table, which under enforced foreign keys would cascade deletions
through the rows being copied. PostgreSQL gets them (`ALTER TABLE ... ADD CONSTRAINT`, checked
against rows already cleaned up). Nothing relies on them: `SourceRepository.delete` removes a
source's rows itself.

Passwords are sealed only with the key the database's other secrets were sealed with: an
upgrade run without it (a shell without PINADS_SECRET_KEY, a new PINADS_HOME) would otherwise
encrypt them with a new key and leave the real one unable to read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from pinads.errors import StateError
from pinads.state.migrations.versions import r0001_control_tables as revision_0001
from pinads.state.schema import METADATA
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
    context = MigrationContext.configure(conn)
    ops = Operations(context)
    present = set(sa.inspect(conn).get_table_names())
    with Operations.context(context):
        for name, create in revision_0001.TABLES.items():
            if name not in present:
                create()
    for table, column in _LATE_COLUMNS:
        if column().name not in _column_names(conn, table):
            ops.add_column(table, column())
    # Version 4 as first released deleted sources without their rows, and version 4's own
    # clean-up came later: run it for every version (it is idempotent).
    _drop_rows_of_deleted_sources(conn)
    if conn.dialect.name == "postgresql":
        _add_missing_foreign_keys(conn, ops)
    return _seal_destination_passwords(conn, cipher)


# What versions 3 and 5 added to tables of version 1 (tables made later already have them).
_LATE_COLUMNS: tuple[tuple[str, Callable[[], sa.Column[Any]]], ...] = (
    ("authorizers", revision_0001.revoked_at),
    ("authorizers", revision_0001.rate_tier),
    ("sources", revision_0001.destination_enc),
)


def _column_names(conn: sa.Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(conn).get_columns(table)}


def _drop_rows_of_deleted_sources(conn: sa.Connection) -> None:
    known = sa.select(sa.column("id", sa.Integer)).select_from(sa.table("sources"))
    for name in ("backfill_progress", "run_locks", "runs"):
        table = sa.table(name, sa.column("source_id"))
        conn.execute(table.delete().where(table.c.source_id.not_in(known)))
    runs = sa.select(sa.column("id", sa.String)).select_from(sa.table("runs"))
    plans = sa.table("run_plans", sa.column("run_id"))
    conn.execute(plans.delete().where(plans.c.run_id.not_in(runs)))


def _add_missing_foreign_keys(conn: sa.Connection, ops: Operations) -> None:
    """The foreign keys of `schema.py` the tables lack, by name."""
    for name in revision_0001.TABLES:
        have = {key["name"] for key in sa.inspect(conn).get_foreign_keys(name)}
        for key in METADATA.tables[name].foreign_key_constraints:
            if key.name in have or not isinstance(key.name, str):
                continue
            ops.create_foreign_key(
                key.name,
                name,
                key.referred_table.name,
                [column.name for column in key.columns],
                [element.column.name for element in key.elements],
                ondelete=key.ondelete,
            )


def _seal_destination_passwords(conn: sa.Connection, cipher: CipherFactory | None) -> int:
    sources = sa.table(
        "sources", sa.column("id"), sa.column("config", sa.JSON), sa.column("destination_enc")
    )
    sealer = DestinationSealer(cipher)
    sealed = []  # (id, redacted config, ciphertext) of every destination with a password
    for source_id, config in conn.execute(sa.select(sources.c.id, sources.c.config)).all():
        if isinstance(config, dict):
            shown, ciphertext = sealer.seal(_as_document(config))
            if ciphertext is not None:
                sealed.append((source_id, shown, ciphertext))
    if sealed:
        _check_key(conn, cipher)  # before anything is written
    for source_id, shown, ciphertext in sealed:
        conn.execute(
            sources.update()
            .where(sources.c.id == source_id)
            .values(config=shown, destination_enc=ciphertext)
        )
    return len(sealed)


def _check_key(conn: sa.Connection, cipher: CipherFactory | None) -> None:
    """Refuse to seal with a key that cannot open the secrets already stored."""
    authorizers = sa.table("authorizers", sa.column("client_secret_enc", sa.Text))
    sample = conn.execute(sa.select(authorizers.c.client_secret_enc).limit(1)).scalar()
    if sample is None or cipher is None:
        return  # no secret yet: the installation's key is the first; none: sealing refuses
    try:
        cipher().decrypt(sample)
    except StateError as exc:
        raise StateError(
            "this installation's secret key cannot decrypt the secrets already in the control "
            "DB, so the destination passwords it must now encrypt would be lost to the right "
            "key: set PINADS_SECRET_KEY (or PINADS_HOME/secret.key) to the key the control DB "
            "was made with, then run `pinads db upgrade`; nothing was changed"
        ) from exc


def _as_document(config: dict[Any, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in config.items()}
