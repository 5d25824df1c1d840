"""How one step's rows get into a PostgreSQL table (inside the caller's transaction).

Measured on 1M analytics rows (bench/load.py): COPY straight into the keyed table costs about
what COPY into any table does, while staging first costs it twice; for rows that already exist,
DELETE + INSERT from the staging table beats INSERT ... ON CONFLICT DO UPDATE by about 25%.
So: when a sample of the step's keys shows none in the table, COPY goes straight in (under a
savepoint; a key that exists after all, or repeats within the step, sends it to the staged
path). Otherwise the rows are staged in a temp table and the write mode is applied from there.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from pinads.load.conform import SEQ_COLUMN, last_per_key
from pinads.load.postgres_sql import ident, idents
from pinads.load.spec import TableSpec, WriteMode
from pinads.load.types import postgres_type

__all__ = ["write_rows"]

_STAGE = "_pinads_stage"
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, batch_size=8192)
_COPY_BATCH_ROWS = 16_384
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
    if has_key and not _any_key_exists(cur, name, table.key, rows):
        try:
            with cur.connection.transaction():
                copy_rows(cur, name, rows)
            return int(rows.num_rows)
        except psycopg.errors.UniqueViolation:
            pass  # a key existed after all or repeats in the step: the staged path handles it
    rows = last_per_key(_with_seq(rows), table.key).drop_columns([SEQ_COLUMN])
    _stage(cur, table, rows)
    written = _apply_staged(cur, name, table, mode=mode, has_key=has_key, staged=int(rows.num_rows))
    cur.execute(sql.SQL("DROP TABLE {}").format(ident(_STAGE)))
    return written


def copy_rows(cur: Cursor, target: sql.Composable, rows: pa.Table) -> None:
    """COPY `rows` into `target` as CSV encoded by Arrow (C++), sent from a writer thread."""
    if rows.num_rows == 0:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, idents(rows.column_names)
    )
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for batch in rows.to_batches(max_chunksize=_COPY_BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, _CSV_OPTIONS)
            copy.write(memoryview(sink.getvalue()))


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


def _stage(cur: Cursor, table: TableSpec, rows: pa.Table) -> None:
    cols = [
        sql.SQL("{} {}").format(ident(c.name), sql.SQL(postgres_type(c.arrow_type, column=c.name)))
        for c in table.columns
    ]
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
            ident(_STAGE), sql.SQL(", ").join(cols)
        )
    )
    copy_rows(cur, ident(_STAGE), rows)
    # Temp tables are never auto-analyzed; without statistics the joins below plan badly.
    cur.execute(sql.SQL("ANALYZE {}").format(ident(_STAGE)))


def _apply_staged(
    cur: Cursor,
    name: sql.Composable,
    table: TableSpec,
    *,
    mode: WriteMode,
    has_key: bool,
    staged: int,
) -> int:
    cols = idents(table.column_names)
    stage = ident(_STAGE)
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s").format(name, cols, cols, stage)
    match = sql.SQL(" AND ").join(sql.SQL("t.{k} = s.{k}").format(k=ident(k)) for k in table.key)
    if mode is WriteMode.INSERT_IGNORE:
        if has_key:
            cur.execute(sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(insert, idents(table.key)))
        else:
            cur.execute(
                sql.SQL("{} WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})").format(
                    insert, name, match
                )
            )
        return int(cur.rowcount)
    # Upsert (and replace's shadow table): the row is replaced whole, so columns the spec no
    # longer has become NULL, exactly as in DuckDB and the files.
    cur.execute(sql.SQL("DELETE FROM {} t USING {} s WHERE {}").format(name, stage, match))
    cur.execute(insert)
    return staged
