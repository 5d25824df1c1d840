"""How one step's rows get into a PostgreSQL table (inside the caller's transaction).

Measured on 1M analytics rows (bench/load.py, binary COPY, backend CPU):
- When a sample of the step's keys shows none in the table, COPY goes straight into the keyed
  table (~6 s, what psql's \\copy of a binary file costs), under a savepoint: a key that
  exists after all, or repeats within the step, sends the step on to the next path.
- Otherwise (upsert, and replace's shadow table) only the step's keys are copied into a temp
  table (~0.6 s), the rows with those keys are deleted (hash join, ~2.6 s) and the rows are
  COPYed straight in (~12.5 s: inserting next to the deleted versions' index entries, and
  checking them for uniqueness, costs twice an insert into an empty key range). Again under a
  savepoint: only a key repeated within the step can fail it, and then the last row per key
  is kept and copied (deciding that up front costs 0.7 s of client CPU per 1M rows).
  Rejected, measured: staging whole rows then DELETE + INSERT ... SELECT (3.4 + 0.7 ANALYZE
  + 6 + 10.6 s), INSERT ... ON CONFLICT DO UPDATE from the stage (3.4 + 0.7 + 17.4 s), MERGE
  (23 s), UPDATE + INSERT (27.5 s).
- insert_ignore stages whole rows and inserts those whose key is new.

synchronous_commit stays as the server has it: a step commits once, so an asynchronous commit
would save one WAL flush (milliseconds) per step, and a server crash could then lose steps a
run has already reported as written.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from pinads.load.conform import SEQ_COLUMN, last_per_key
from pinads.load.postgres_copy import copy_rows
from pinads.load.postgres_sql import ident, idents
from pinads.load.types import postgres_type
from pinads.values import TableSpec, WriteMode

__all__ = ["write_rows"]

_STAGE = "_pinads_stage"
_KEYS = "_pinads_keys"
# Memory for the hash of the step's keys in the joins below, for this transaction only: with
# the server's default (4 MB) a 1M-key DELETE ... USING spilled to temp files and took 5.9 s of
# backend CPU, 2.6 s with 64 MB (the cap, not an allocation: small steps use what they need).
_JOIN_WORK_MEM = "64MB"
# Keys looked up before choosing the direct path: reruns overlap on (nearly) every key, so a
# few dozen evenly spread keys find out; a miss costs one wasted COPY, never a wrong result.
_PROBE_KEYS = 48

Cursor = psycopg.Cursor[Any]


def write_rows(
    cur: Cursor, *, schema: str, table: TableSpec, rows: pa.Table, mode: WriteMode, has_key: bool
) -> int:
    """Write `rows` (the spec's columns plus `__pinads_seq`) by `mode`; return rows written."""
    name = ident(schema, table.name)
    rows = rows.drop_columns([SEQ_COLUMN]) if SEQ_COLUMN in rows.column_names else rows
    if mode is WriteMode.APPEND or not table.key:
        copy_rows(cur, name, rows)
        return int(rows.num_rows)
    fresh = has_key and not _any_key_exists(cur, name, table.key, rows)
    if fresh and _copy_unless_key_taken(cur, name, rows):
        return int(rows.num_rows)
    if mode is WriteMode.INSERT_IGNORE:
        return _insert_new(cur, name, table, _last_per_key(rows, table.key), has_key=has_key)
    # Upsert (and replace's shadow table): the row is replaced whole, so columns the spec no
    # longer has become NULL, exactly as in DuckDB and the files.
    if has_key:
        _delete_keys(cur, name, table, rows)
        if _copy_unless_key_taken(cur, name, rows):
            return int(rows.num_rows)
        # Only a key repeated within the step is left to violate the primary key (rare: the
        # API repeating a row); the step's keys are already deleted.
    rows = _last_per_key(rows, table.key)
    if not has_key:
        _delete_keys(cur, name, table, rows)
    copy_rows(cur, name, rows)
    return int(rows.num_rows)


def _copy_unless_key_taken(cur: Cursor, name: sql.Composable, rows: pa.Table) -> bool:
    """COPY `rows` into the keyed table under a savepoint; False if a key was already taken."""
    try:
        with cur.connection.transaction():
            copy_rows(cur, name, rows)
    except psycopg.errors.UniqueViolation:
        return False
    return True


def _last_per_key(rows: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Keep the last row of each key (0.7 s of CPU per 1M rows, so only when needed)."""
    return last_per_key(_with_seq(rows), key).drop_columns([SEQ_COLUMN])


def _with_seq(rows: pa.Table) -> pa.Table:
    return rows.append_column(SEQ_COLUMN, pa.array(range(rows.num_rows), pa.int64()))


def _any_key_exists(
    cur: Cursor, name: sql.Composable, key: tuple[str, ...], rows: pa.Table
) -> bool:
    if rows.num_rows == 0:
        return False
    step = max(1, rows.num_rows // _PROBE_KEYS)
    sample = rows.select(list(key)).take(pa.array(range(0, rows.num_rows, step))).to_pylist()
    values = sql.SQL(", ").join(
        sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(key))) for _ in sample
    )
    cur.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE ({}) IN (VALUES {}))").format(
            name, idents(key), values
        ),
        [r[k] for r in sample for k in key],
    )
    found = cur.fetchone()
    return bool(found and found[0])


def _temp_table(cur: Cursor, temp: str, table: TableSpec, columns: tuple[str, ...]) -> None:
    """Create a temp table (no WAL, dropped at commit) with `columns` of `table`."""
    types = {c.name: postgres_type(c.arrow_type, column=c.name) for c in table.columns}
    cols = [sql.SQL("{} {}").format(ident(n), sql.SQL(types[n])) for n in columns]
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
            ident(temp), sql.SQL(", ").join(cols)
        )
    )


def _delete_keys(cur: Cursor, name: sql.Composable, table: TableSpec, rows: pa.Table) -> None:
    """Delete the rows of `name` whose key is among `rows`' keys (only the keys are sent)."""
    _temp_table(cur, _KEYS, table, table.key)
    copy_rows(cur, ident(_KEYS), rows.select(list(table.key)))
    # Temp tables are never auto-analyzed; without statistics the join plans badly (a nested
    # loop over a big table, or a hash join for a handful of keys).
    cur.execute(sql.SQL("ANALYZE {}").format(ident(_KEYS)))
    _roomy_joins(cur)
    match = sql.SQL(" AND ").join(sql.SQL("t.{k} = s.{k}").format(k=ident(k)) for k in table.key)
    cur.execute(sql.SQL("DELETE FROM {} t USING {} s WHERE {}").format(name, ident(_KEYS), match))
    cur.execute(sql.SQL("DROP TABLE {}").format(ident(_KEYS)))


def _insert_new(
    cur: Cursor, name: sql.Composable, table: TableSpec, rows: pa.Table, *, has_key: bool
) -> int:
    """insert_ignore: insert the rows whose key is not in the table yet; return how many."""
    _temp_table(cur, _STAGE, table, tuple(rows.column_names))
    copy_rows(cur, ident(_STAGE), rows)
    cur.execute(sql.SQL("ANALYZE {}").format(ident(_STAGE)))
    _roomy_joins(cur)
    cols = idents(rows.column_names)
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s").format(
        name, cols, cols, ident(_STAGE)
    )
    if has_key:
        cur.execute(sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(insert, idents(table.key)))
    else:
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{k} = s.{k}").format(k=ident(k)) for k in table.key
        )
        cur.execute(
            sql.SQL("{} WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})").format(insert, name, match)
        )
    written = int(cur.rowcount)
    cur.execute(sql.SQL("DROP TABLE {}").format(ident(_STAGE)))
    return written


def _roomy_joins(cur: Cursor) -> None:
    cur.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(_JOIN_WORK_MEM)))
