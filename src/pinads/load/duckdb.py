"""DuckDB destination: a local file, Arrow batches scanned zero-copy, one transaction per step."""

# SQL is assembled from identifiers that TableSpec validated and quote_ident() quotes; values
# always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from pinads.errors import LoadError
from pinads.load.conform import collect_step, last_per_key, quote_ident
from pinads.load.spec import TableSpec, WriteMode, shadow_name
from pinads.load.types import duckdb_type

__all__ = ["CHECKPOINT_TABLE", "DuckDBDestination"]

CHECKPOINT_TABLE = "_pinads_checkpoints"
_CHECKPOINT_DDL = f"""
CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} (
    table_name VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    step_id VARCHAR NOT NULL,
    rows_written BIGINT NOT NULL,
    committed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, scope, step_id)
)"""


class DuckDBDestination:
    """Tables in one DuckDB file. One connection, used by one thread at a time (a lock)."""

    def __init__(self, path: Path, *, url: str) -> None:
        self.url = url
        self.path = path
        self._lock = threading.RLock()
        self._connection: duckdb.DuckDBPyConnection | None = None

    # -- connection -------------------------------------------------------------------------

    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = duckdb.connect(str(self.path))
            except OSError as exc:
                raise LoadError(
                    f"cannot create the DuckDB file's directory {self.path.parent} "
                    f"({exc.strerror}); choose a writable path in the destination URL"
                ) from exc
            except duckdb.Error as exc:
                raise LoadError(_open_failure(self.path, exc)) from exc
            _exec(conn, "SET TimeZone = 'UTC'")
            # Tables are sets: letting DuckDB reorder rows roughly doubles Arrow scan speed.
            _exec(conn, "SET preserve_insertion_order = false")
            _exec(conn, _CHECKPOINT_DDL)
            self._connection = conn
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            conn = self._conn()
            _exec(conn, "BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                _exec(conn, "ROLLBACK")
                raise
            _exec(conn, "COMMIT")

    def check(self) -> None:
        with self._lock:
            conn = self._conn()
            try:
                # A write to the file itself proves it is writable; the probe is rolled back.
                _exec(conn, "BEGIN TRANSACTION")
                _exec(conn, "CREATE TABLE _pinads_check (x INTEGER)")
                _exec(conn, "INSERT INTO _pinads_check VALUES (1)")
                _exec(conn, "ROLLBACK")
            except duckdb.Error as exc:
                raise LoadError(_open_failure(self.path, exc)) from exc

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- writing ----------------------------------------------------------------------------

    def write_step(
        self,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> int:
        mode = WriteMode(mode)
        target = table
        if mode is WriteMode.REPLACE:
            target = table.renamed(shadow_name(table.name))
            if not self._table_columns(target.name):
                raise LoadError(
                    f"replace mode on table {table.name!r} needs begin_replace() before the "
                    "first step and finish_replace() after the last"
                )
        rows = collect_step(target, batches, require_key=mode.uses_key)
        view = f"_pinads_step_{uuid.uuid4().hex}"
        step = (scope, step_id)
        with self._lock:
            conn = self._conn()
            # Registered outside the transaction: an aborted transaction refuses (un)registering.
            conn.register(view, rows)
            try:
                try:
                    return self._write_step(target, rows, view, mode=mode, step=step)
                except duckdb.ConstraintException:
                    # The optimistic plain INSERT met a key already there (or repeated in the
                    # step); it was rolled back and the step is merged properly instead.
                    return self._write_step(
                        target, rows, view, mode=mode, step=step, optimistic=False
                    )
            except duckdb.Error as exc:
                raise LoadError(
                    f"DuckDB refused the write to table {table.name!r}: {_first_line(exc)}; "
                    "nothing of this step was kept, rerun it after fixing the cause"
                ) from exc
            finally:
                conn.unregister(view)

    def _write_step(
        self,
        table: TableSpec,
        rows: pa.Table,
        view: str,
        *,
        mode: WriteMode,
        step: tuple[str, str],
        optimistic: bool = True,
    ) -> int:
        scope, step_id = step
        with self._transaction() as conn:
            if mode is WriteMode.APPEND and step_id in self._steps(conn, table.name, scope):
                return 0
            has_key = self._ensure_table(conn, table, with_key=mode.uses_key)
            if mode is WriteMode.APPEND and has_key:
                raise LoadError(
                    f"table {table.name!r} has a primary key, so append mode cannot keep "
                    "several snapshots of a row; append into a new table or use upsert"
                )
            if optimistic and has_key:
                # New keys only (first loads, backfills): a plain INSERT is about twice as fast
                # as ON CONFLICT, and the index stops it at once if a key exists after all.
                written = _insert(conn, table, view)
            else:
                if mode.uses_key and table.key and _has_duplicates(conn, view, table.key):
                    # Rare (the API repeating a row): the last one wins, decided in Arrow.
                    conn.unregister(view)
                    conn.register(view, last_per_key(rows, table.key))
                written = _apply(conn, table, view, mode=mode, has_key=has_key)
            _save_checkpoint(conn, table.name, scope=scope, step_id=step_id, rows=written)
            return written

    def _ensure_table(
        self, conn: duckdb.DuckDBPyConnection, table: TableSpec, *, with_key: bool
    ) -> bool:
        """Create or evolve `table`; return whether it has the spec's key as primary key."""
        existing = self._table_columns(table.name, conn=conn)
        wanted = [(c.name, duckdb_type(c.arrow_type, column=c.name)) for c in table.columns]
        name = quote_ident(table.name)
        if not existing:
            cols = [f"{quote_ident(n)} {t}" for n, t in wanted]
            if with_key and table.key:
                cols.append(f"PRIMARY KEY ({', '.join(map(quote_ident, table.key))})")
            _exec(conn, f"CREATE TABLE {name} ({', '.join(cols)})")
            return with_key and bool(table.key)
        for col_name, sql_type in wanted:
            have = existing.get(col_name)
            if have is None:
                _exec(conn, f"ALTER TABLE {name} ADD COLUMN {quote_ident(col_name)} {sql_type}")
            elif have != sql_type:
                raise LoadError(
                    f"column {col_name!r} of table {table.name!r} is {have} in DuckDB but the "
                    f"source now sends {sql_type}; rename the column in DuckDB or load into a "
                    "new table"
                )
        return self._check_primary_key(conn, table)

    def _check_primary_key(self, conn: duckdb.DuckDBPyConnection, table: TableSpec) -> bool:
        row = _one(
            conn,
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = ? AND schema_name = current_schema() "
            "AND constraint_type = 'PRIMARY KEY'",
            [table.name],
        )
        if row is None:
            return False
        primary_key = tuple(str(c) for c in row[0])  # type: ignore[attr-defined]
        if primary_key != table.key:
            raise LoadError(
                f"table {table.name!r} has primary key {primary_key} but the source's key is "
                f"{table.key}; load into a new table or drop the old one"
            )
        return True

    def _table_columns(
        self, table_name: str, *, conn: duckdb.DuckDBPyConnection | None = None
    ) -> dict[str, str]:
        with self._lock:
            rows = _exec(
                conn or self._conn(),
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? "
                "ORDER BY ordinal_position",
                [table_name],
            )
        return {str(n): str(t) for n, t in rows}

    # -- checkpoints ------------------------------------------------------------------------

    def _steps(self, conn: duckdb.DuckDBPyConnection, table_name: str, scope: str) -> set[str]:
        rows = _exec(
            conn,
            f"SELECT step_id FROM {CHECKPOINT_TABLE} WHERE table_name = ? AND scope = ?",
            [table_name, scope],
        )
        return {str(r[0]) for r in rows}

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        with self._lock:
            shadow = shadow_name(table_name)
            name = shadow if self._table_columns(shadow) else table_name
            return self._steps(self._conn(), name, scope)

    def clear_steps(self, table_name: str, scope: str) -> None:
        with self._transaction() as conn:
            _exec(
                conn,
                f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name IN (?, ?) AND scope = ?",
                [table_name, shadow_name(table_name), scope],
            )

    # -- replace runs -----------------------------------------------------------------------

    def begin_replace(self, table: TableSpec) -> None:
        shadow = table.renamed(shadow_name(table.name))
        with self._transaction() as conn:
            if self._table_columns(shadow.name, conn=conn):
                # A crashed replace run left its shadow: resume it (its checkpoints are valid).
                self._ensure_table(conn, shadow, with_key=True)
                return
            _exec(conn, f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name = ?", [shadow.name])
            self._ensure_table(conn, shadow, with_key=True)
            # Columns only the live table has stay (none silently dropped), filled with NULL.
            for col_name, sql_type in self._table_columns(table.name, conn=conn).items():
                if col_name not in table.column_names:
                    _exec(
                        conn,
                        f"ALTER TABLE {quote_ident(shadow.name)} "
                        f"ADD COLUMN {quote_ident(col_name)} {sql_type}",
                    )

    def finish_replace(self, table: TableSpec) -> None:
        shadow = shadow_name(table.name)
        with self._transaction() as conn:
            if not self._table_columns(shadow, conn=conn):
                raise LoadError(f"no replace run is in progress for table {table.name!r}")
            _exec(conn, f"DROP TABLE IF EXISTS {quote_ident(table.name)}")
            _exec(conn, f"ALTER TABLE {quote_ident(shadow)} RENAME TO {quote_ident(table.name)}")
            _exec(conn, f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name = ?", [table.name])
            _exec(
                conn,
                f"UPDATE {CHECKPOINT_TABLE} SET table_name = ? WHERE table_name = ?",
                [table.name, shadow],
            )

    def abort_replace(self, table_name: str) -> None:
        shadow = shadow_name(table_name)
        with self._transaction() as conn:
            _exec(conn, f"DROP TABLE IF EXISTS {quote_ident(shadow)}")
            _exec(conn, f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name = ?", [shadow])

    # -- reading ----------------------------------------------------------------------------

    def read_table(self, table_name: str) -> pa.Table:
        with self._lock:
            if not self._table_columns(table_name):
                raise LoadError(f"table {table_name!r} does not exist in {self.path}")
            result: pa.Table = (
                self._conn().sql(f"SELECT * FROM {quote_ident(table_name)}").to_arrow_table()
            )
            return result


def _has_duplicates(conn: duckdb.DuckDBPyConnection, view: str, key: tuple[str, ...]) -> bool:
    keys = ", ".join(map(quote_ident, key))
    row = _one(
        conn, f"SELECT count(*) FROM (SELECT 1 FROM {view} GROUP BY {keys} HAVING count(*) > 1)"
    )
    return bool(row and row[0])


def _insert(conn: duckdb.DuckDBPyConnection, table: TableSpec, view: str) -> int:
    cols = ", ".join(map(quote_ident, table.column_names))
    return _count(conn, f"INSERT INTO {quote_ident(table.name)} ({cols}) SELECT {cols} FROM {view}")


def _apply(
    conn: duckdb.DuckDBPyConnection,
    table: TableSpec,
    view: str,
    *,
    mode: WriteMode,
    has_key: bool,
) -> int:
    """Merge the step's rows (an Arrow view, keys unique) into the table; return rows written.

    With the key as primary key, ON CONFLICT finds existing rows through the index (measured
    faster than DELETE + INSERT, which DuckDB commits slowly on an indexed table). Without one
    (a table created by append mode), the step's keys are deleted first.
    """
    name = quote_ident(table.name)
    cols = ", ".join(map(quote_ident, table.column_names))
    if mode is WriteMode.APPEND or not table.key:
        return _insert(conn, table, view)
    keys = ", ".join(map(quote_ident, table.key))
    select = f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}"
    if has_key:
        action = (
            "DO NOTHING" if mode is WriteMode.INSERT_IGNORE else _on_conflict_update(conn, table)
        )
        return _count(conn, f"{select} ON CONFLICT ({keys}) {action}")
    if mode is WriteMode.INSERT_IGNORE:
        return _count(conn, f"{select} ANTI JOIN {name} USING ({keys})")
    _exec(conn, f"DELETE FROM {name} WHERE ({keys}) IN (SELECT ({keys}) FROM {view})")
    return _insert(conn, table, view)


def _on_conflict_update(conn: duckdb.DuckDBPyConnection, table: TableSpec) -> str:
    """DO UPDATE clause of an upsert: the row is replaced, so columns the spec lacks become NULL."""
    rows = _exec(
        conn,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ?",
        [table.name],
    )
    sets = []
    for (value_of_col,) in rows:
        col = str(value_of_col)
        if col in table.key:
            continue
        value = f"excluded.{quote_ident(col)}" if col in table.column_names else "NULL"
        sets.append(f"{quote_ident(col)} = {value}")
    return f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"


def _exec(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> list[tuple[object, ...]]:
    """Execute and fetch everything: DuckDB refuses new work while a result is unfinished."""
    return conn.execute(sql, params).fetchall()


def _one(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> tuple[object, ...] | None:
    rows = _exec(conn, sql, params)
    return rows[0] if rows else None


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = _one(conn, sql)
    return int(str(row[0])) if row else 0


def _save_checkpoint(
    conn: duckdb.DuckDBPyConnection, table_name: str, *, scope: str, step_id: str, rows: int
) -> None:
    _exec(
        conn,
        f"INSERT INTO {CHECKPOINT_TABLE} (table_name, scope, step_id, rows_written) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (table_name, scope, step_id) "
        "DO UPDATE SET rows_written = excluded.rows_written, committed_at = now()",
        [table_name, scope, step_id, rows],
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _open_failure(path: Path, exc: duckdb.Error) -> str:
    text = _first_line(exc)
    if "lock" in text.lower():
        return (
            f"the DuckDB file {path} is open in another process ({text}); close that "
            "program (a DuckDB shell, notebook or another pinads run) and retry"
        )
    return f"cannot open the DuckDB file {path} ({text}); check the path and its permissions"
