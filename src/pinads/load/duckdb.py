"""DuckDB destination: a local file, Arrow batches scanned zero-copy, steps committed together
with their checkpoints (several steps per transaction when the caller allows it)."""

# SQL is assembled from identifiers that TableSpec validated and quote_ident() quotes; values
# always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pinads.errors import LoadError
from pinads.load.conform import collect_step, last_per_key, quote_ident
from pinads.load.cores import usable_cores
from pinads.load.duckdb_file import BUSY_SECONDS, DuckDBFile
from pinads.load.duckdb_file import first_line as _first_line
from pinads.load.duckdb_file import open_failure as _open_failure
from pinads.load.duckdb_tables import REGISTRY_DDL, DuckDBCatalog
from pinads.load.ownership import (
    Ownership,
    check_grain,
    claim_table,
    forget_table,
    ownership,
    refusal,
    register_table,
    reset_if_missing,
    table_moved,
)
from pinads.load.types import duckdb_type
from pinads.values import TableSpec, WriteMode, shadow_name

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


# Rows per row group of the tables pinads writes: half DuckDB's default (122,880). A write pins
# one uncompressed row group of the table until it is compressed into the file, so this sets the
# buffer pool a write needs (see the cap below): a run of the extraction benchmark peaks ~35 MB
# lower. The cost is ~6% more file (27.0 vs 25.5 MB for its 360k rows x 44 columns).
ROW_GROUP_ROWS = 61_440
# A transaction of several steps commits once it holds this many rows (several row groups: past
# one, rows go compressed straight into the file) or is this old (bounding what a crash makes
# the next run fetch again).
GROUP_ROWS = 4 * ROW_GROUP_ROWS
GROUP_SECONDS = 10.0
# Threads, unless the destination URL sets them: one for a step of a few MB (DuckDB's parallelism
# costs ~15% more CPU there and gains nothing), every core for a step of at least this many rows
# (an async report's), where each thread compresses row groups of its own: a 1M-row step then
# takes ~half the time on 2 cores. The buffer pool grows with the threads (each pins a group).
PARALLEL_STEP_ROWS = 4 * ROW_GROUP_ROWS
# DuckDB's buffer pool is capped so a run's memory stays flat (uncapped, DuckDB keeps the pages it
# wrote, up to 80% of RAM). A write pins about one uncompressed row group of the table (61,440
# values of each column, ~0.5 MB) and fails to commit below that: with 44 columns, 122,880-row
# groups failed at 34 MB and passed at 43 MB; 61,440-row groups pass at 22 MB. So the cap follows
# the width of the table being written: 0.75 MB a column (1.5x the need), 32 MB at least.
MIN_MEMORY_LIMIT = 32 * 2**20
_MEMORY_PER_COLUMN = 3 * 2**18


def memory_limit_for(table: TableSpec, *, threads: int = 1) -> int:
    """Bytes of buffer pool a write into `table` by `threads` threads needs (see above).
    Parallel writers each keep a few row groups in flight: with less than ~1.5 MB a column per
    thread they evict each other's buffers (a 1M-row step with 38 columns on 2 threads: 1.9 s
    of CPU at 57 MB, 1.3 s from 110 MB up)."""
    share = 1 if threads == 1 else 2 * threads
    return max(MIN_MEMORY_LIMIT, _MEMORY_PER_COLUMN * len(table.columns) * share)


_STEP = "_pinads_step_rows"  # how SQL reads the step's rows (see `_exec`)


class _Group:
    """The open transaction of `write_steps` and the steps written into it."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        checkpoint: tuple[str, str],
        on_commit: Callable[[list[tuple[str, int]]], None],
    ) -> None:
        self.conn = conn
        self.table_name, self.scope = checkpoint
        self.on_commit = on_commit
        self.done: list[tuple[str, int]] = []
        self.rows = 0
        self.has_key = False
        self.started: float | None = None

    @property
    def open(self) -> bool:
        return self.started is not None

    def age(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def begin(self) -> None:
        _exec(self.conn, "BEGIN TRANSACTION")
        self.started = time.monotonic()

    def commit(self) -> None:
        """Write the steps' checkpoints (one statement) and commit them with their rows."""
        if self.started is None:
            return
        try:
            if self.done:
                _save_checkpoints(self.conn, self.table_name, self.scope, self.done)
            _exec(self.conn, "COMMIT")
        except duckdb.Error as exc:
            lost = self.rollback()
            raise LoadError(
                f"DuckDB could not commit {lost} step(s) to table {self.table_name!r}: "
                f"{_first_line(exc)}; nothing of them was kept, rerun after fixing the cause"
            ) from exc
        done = self._reset()
        if done:
            self.on_commit(done)

    def rollback(self) -> int:
        """Roll back the open transaction; return how many whole steps it held."""
        if self.started is None:
            return 0
        with suppress(duckdb.TransactionException):  # a failed COMMIT may have ended it
            _exec(self.conn, "ROLLBACK")
        return len(self._reset())

    def _reset(self) -> list[tuple[str, int]]:
        done, self.done, self.rows, self.started = self.done, [], 0, None
        return done


class DuckDBDestination:
    """Tables in one DuckDB file. One connection, used by one thread at a time (a lock)."""

    def __init__(
        self,
        path: Path,
        *,
        url: str,
        threads: int | None = None,
        memory_limit: int | None = None,
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        """`threads` for DuckDB and `memory_limit` (bytes) for its buffer pool; None picks them
        for each step written (one thread for small steps, every core for large ones) and sizes
        the pool for the table's width and the threads (`memory_limit_for`). `busy_seconds`:
        how long to wait for the file while a program outside pinads has it open."""
        self.url = url
        self.path = path
        self.threads = threads
        self.memory_limit = memory_limit
        self._lock = threading.RLock()
        # Attached only while in use, so runs sharing the file queue for it and readers get
        # it between uses (see pinads.load.duckdb_file).
        self._file = DuckDBFile(
            path, row_group_rows=ROW_GROUP_ROWS, prepare=self._prepare, busy_seconds=busy_seconds
        )
        self._tuned: tuple[int, int] | None = None  # (threads, memory limit) set on the connection

    # -- connection -------------------------------------------------------------------------

    def _tune(self, conn: duckdb.DuckDBPyConnection, table: TableSpec | None, *, rows: int) -> None:
        """Threads and buffer pool for writing a step of `rows` rows into `table` (None: the
        connection's own bookkeeping), unless the URL fixed them."""
        threads = self.threads or (usable_cores() if rows >= PARALLEL_STEP_ROWS else 1)
        limit = self.memory_limit or (
            MIN_MEMORY_LIMIT if table is None else memory_limit_for(table, threads=threads)
        )
        if self._tuned != (threads, limit):
            _exec(conn, f"SET threads = {int(threads)}")
            _exec(conn, "SET memory_limit = ?", [f"{limit}B"])
            self._tuned = (threads, limit)

    def _prepare(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Settings and bookkeeping of a freshly attached file."""
        self._tuned = None
        _exec(conn, "SET TimeZone = 'UTC'")
        # Tables are sets: letting DuckDB reorder rows roughly doubles Arrow scan speed.
        _exec(conn, "SET preserve_insertion_order = false")
        self._tune(conn, None, rows=0)
        _exec(conn, _CHECKPOINT_DDL)
        _exec(conn, REGISTRY_DDL)

    @contextmanager
    def _session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file, attached for this use (and the uses nested in it), closed after."""
        with self._lock, self._file.use() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._session() as conn:
            _exec(conn, "BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                _exec(conn, "ROLLBACK")
                raise
            _exec(conn, "COMMIT")

    def check(self) -> None:
        with self._session() as conn:
            try:
                # A write to the file itself proves it is writable; the probe is rolled back.
                _exec(conn, "BEGIN TRANSACTION")
                _exec(conn, "CREATE TABLE _pinads_check (x INTEGER)")
                _exec(conn, "INSERT INTO _pinads_check VALUES (1)")
                _exec(conn, "ROLLBACK")
            except duckdb.Error as exc:
                raise LoadError(_open_failure(self.path, exc)) from exc

    def close(self) -> None:
        """Nothing stays open between uses: the file is closed after each (see `_session`)."""
        with self._lock:
            self._tuned = None

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
        committed: list[tuple[str, int]] = []
        self.write_steps(
            table, [(step_id, batches, False)], mode=mode, scope=scope, on_commit=committed.extend
        )
        return sum(written for _, written in committed)

    def write_steps(
        self,
        table: TableSpec,
        steps: Iterable[tuple[str, Iterable[pa.RecordBatch], bool]],
        *,
        mode: WriteMode,
        scope: str,
        on_commit: Callable[[list[tuple[str, int]]], None],
        more_ready: Callable[[], bool] | None = None,
        group_rows: int = GROUP_ROWS,
        group_seconds: float = GROUP_SECONDS,
    ) -> None:
        """Write steps `(step id, batches, groupable)`, each with its checkpoint, in as few
        transactions as allowed: consecutive groupable steps share one until it holds
        `group_rows` rows or is `group_seconds` old; a step that is not groupable commits
        with those before it. `on_commit` gets `(step id, rows written)` of each committed
        transaction.

        Every step stays atomic with its checkpoint (a transaction commits or rolls back
        whole). Past one row group DuckDB writes a transaction's rows compressed straight into
        the file, where a small transaction goes through the WAL and gets compressed again at
        every automatic checkpoint: per-step commits cost about twice the CPU. If the producer
        of the steps fails, the steps already written are committed before the error goes on;
        if DuckDB refuses a step, the open transaction is rolled back (its steps rerun).

        The file is attached for each transaction and closed after its commit, so it is free
        while the producer fetches the next steps: `more_ready()` says whether the next step is
        already waiting (None: assume so), and a transaction stays open only for one that is."""
        mode = WriteMode(mode)
        target = self._target(table, mode)
        ready = more_ready or (lambda: True)
        with self._lock, ExitStack() as held:
            group: _Group | None = None
            items = iter(steps)
            while True:
                try:
                    item = next(items, None)
                    if item is None:
                        break
                    step_id, batches, groupable = item
                    rows = collect_step(target, batches, require_key=mode.uses_key)
                except BaseException:
                    _commit(group, held)
                    raise
                if group is None:
                    conn = held.enter_context(self._session())
                    group = _Group(conn, (target.name, scope), on_commit)
                self._tune(group.conn, target, rows=rows.num_rows)
                self._add_step(group, target, rows, mode=mode, scope=scope, step_id=step_id)
                full = group.rows >= group_rows or group.age() >= group_seconds
                if not groupable or full or not ready():
                    _commit(group, held)
                    group = None
            _commit(group, held)

    def _target(self, table: TableSpec, mode: WriteMode) -> TableSpec:
        if mode is not WriteMode.REPLACE:
            return table
        target = table.renamed(shadow_name(table.name))
        if not self._table_columns(target.name):
            raise LoadError(
                f"replace mode on table {table.name!r} needs begin_replace() before the "
                "first step and finish_replace() after the last"
            )
        return target

    def _add_step(
        self,
        group: _Group,
        table: TableSpec,
        rows: pa.Table,
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> None:
        """Write one step and its checkpoint into the group's open transaction."""
        conn = group.conn
        try:
            if not group.open:
                group.begin()
                group.has_key = self._ensure_table(conn, table)
            written = self._step_rows(
                conn,
                table,
                rows,
                group.has_key,
                mode=mode,
                step=(scope, step_id),
                pending={done for done, _ in group.done},
            )
        except BaseException as exc:
            lost = group.rollback()
            if isinstance(exc, duckdb.Error):
                kept = f" (and the {lost} step(s) before it in its transaction)" if lost else ""
                raise LoadError(
                    f"DuckDB refused the write to table {table.name!r}: {_first_line(exc)}; "
                    f"nothing of this step{kept} was kept, rerun it after fixing the cause"
                ) from exc
            raise
        group.done.append((step_id, written))
        group.rows += rows.num_rows

    def _step_rows(
        self,
        conn: duckdb.DuckDBPyConnection,
        table: TableSpec,
        rows: pa.Table,
        has_key: bool,
        *,
        mode: WriteMode,
        step: tuple[str, str],
        pending: set[str],
    ) -> int:
        """The step's rows into the open transaction (its checkpoint comes at commit);
        `pending` holds the steps already in that transaction."""
        scope, step_id = step
        if mode is WriteMode.APPEND:
            if step_id in self._steps(conn, table.name, scope) or step_id in pending:
                return 0
            if has_key:
                raise LoadError(
                    f"table {table.name!r} has a primary key, so append mode cannot keep "
                    "several snapshots of a row; append into a new table or use upsert"
                )
            return _insert(conn, table, rows)
        if rows.num_rows == 0:
            return 0
        ranges = _KeyRanges(rows, table.key)
        if ranges.repeats(conn, rows):
            # Rare (the API repeating a row): the last one wins, decided in Arrow.
            rows = last_per_key(rows, table.key)
        return _apply(conn, table, rows, ranges, mode=mode, has_key=has_key)

    def _ensure_table(self, conn: duckdb.DuckDBPyConnection, table: TableSpec) -> bool:
        """Create or evolve `table`; return whether it has the spec's key as primary key.

        New tables get no PRIMARY KEY: DuckDB keeps a primary key's ART index in memory, so it
        grows with the table (~40 MB per 360k analytics rows) and every insert pays for it;
        upserts find existing keys through the step's key ranges instead (see `_apply`).
        Tables created with one by earlier versions keep it and are merged with ON CONFLICT."""
        catalog = self._catalog(conn)
        wanted = [(c.name, duckdb_type(c.arrow_type, column=c.name)) for c in table.columns]
        name = quote_ident(table.name)
        # Refuses a table pinads did not create, or created for rows of another grain.
        if not claim_table(catalog, table.name, grain=table.grain):
            cols = [f"{quote_ident(n)} {t}" for n, t in wanted]
            _exec(conn, f"CREATE TABLE {name} ({', '.join(cols)})")
            register_table(catalog, table.name, grain=table.grain)
            return False
        existing = self._table_columns(table.name, conn=conn)
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
            "WHERE table_name = ? AND database_name = current_database() "
            "AND schema_name = current_schema() "
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
        with self._session() as own:
            rows = _exec(
                conn or own,
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = current_schema() "
                "AND table_name = ? ORDER BY ordinal_position",
                [table_name],
            )
        return {str(n): str(t) for n, t in rows}

    # -- ownership (see ownership.py) --------------------------------------------------------

    def _catalog(self, conn: duckdb.DuckDBPyConnection) -> DuckDBCatalog:
        return DuckDBCatalog(conn, path=self.path, checkpoints=CHECKPOINT_TABLE)

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """ConfigError if table `table_name` (or its replace shadow) exists and pinads did not
        create it, or (with `grain`) created it for rows of another grain: called before a run
        spends API calls on rows it could not write."""
        with self._transaction() as conn:
            catalog = self._catalog(conn)
            for name in (table_name, shadow_name(table_name)):
                state = ownership(catalog, name)
                if state in (Ownership.FOREIGN, Ownership.REPLACED):
                    raise refusal(catalog, name, state)
            if grain is not None and ownership(catalog, table_name) is Ownership.OWNED:
                check_grain(catalog, table_name, grain)

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        with self._transaction() as conn:
            catalog = self._catalog(conn)
            return reset_if_missing(catalog, table_name, shadow_name(table_name), scope=scope)

    # -- checkpoints ------------------------------------------------------------------------

    def _steps(self, conn: duckdb.DuckDBPyConnection, table_name: str, scope: str) -> set[str]:
        rows = _exec(
            conn,
            f"SELECT step_id FROM {CHECKPOINT_TABLE} WHERE table_name = ? AND scope = ?",
            [table_name, scope],
        )
        return {str(r[0]) for r in rows}

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        with self._session() as conn:
            shadow = shadow_name(table_name)
            name = shadow if self._table_columns(shadow) else table_name
            return self._steps(conn, name, scope)

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        sql = f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name IN (?, ?) AND scope = ?"
        params: list[object] = [table_name, shadow_name(table_name), scope]
        if step_ids is not None:
            sql += " AND list_contains(?, step_id)"
            params.append(sorted(step_ids))
        with self._transaction() as conn:
            _exec(conn, sql, params)

    # -- replace runs -----------------------------------------------------------------------

    def begin_replace(self, table: TableSpec) -> None:
        shadow = table.renamed(shadow_name(table.name))
        with self._transaction() as conn:
            claim_table(self._catalog(conn), table.name)  # the table it will replace is pinads'
            if self._table_columns(shadow.name, conn=conn):
                # A crashed replace run left its shadow: resume it (its checkpoints are valid).
                self._ensure_table(conn, shadow)
                return
            _exec(conn, f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name = ?", [shadow.name])
            self._ensure_table(conn, shadow)
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
            catalog = self._catalog(conn)
            claim_table(catalog, table.name)  # never drop a table pinads did not create
            _exec(conn, f"DROP TABLE IF EXISTS {quote_ident(table.name)}")
            _exec(conn, f"ALTER TABLE {quote_ident(shadow)} RENAME TO {quote_ident(table.name)}")
            table_moved(catalog, shadow, table.name)
            _exec(conn, f"DELETE FROM {CHECKPOINT_TABLE} WHERE table_name = ?", [table.name])
            _exec(
                conn,
                f"UPDATE {CHECKPOINT_TABLE} SET table_name = ? WHERE table_name = ?",
                [table.name, shadow],
            )

    def abort_replace(self, table_name: str) -> None:
        shadow = shadow_name(table_name)
        with self._transaction() as conn:
            catalog = self._catalog(conn)
            if ownership(catalog, shadow) in (Ownership.OWNED, Ownership.ADOPTABLE):
                _exec(conn, f"DROP TABLE {quote_ident(shadow)}")
            forget_table(catalog, shadow)

    # -- reading ----------------------------------------------------------------------------

    def read_table(self, table_name: str) -> pa.Table:
        with self._session() as conn:
            if not self._table_columns(table_name):
                raise LoadError(f"table {table_name!r} does not exist in {self.path}")
            result: pa.Table = conn.sql(f"SELECT * FROM {quote_ident(table_name)}").to_arrow_table()
            return result


def _commit(group: _Group | None, held: ExitStack) -> None:
    """Commit the group's transaction, then close the file until the next one."""
    try:
        if group is not None:
            group.commit()
    finally:
        held.close()


def _insert(conn: duckdb.DuckDBPyConnection, table: TableSpec, rows: pa.Table) -> int:
    cols = ", ".join(map(quote_ident, table.column_names))
    sql = f"INSERT INTO {quote_ident(table.name)} ({cols}) SELECT {cols} FROM {_STEP}"
    return _count(conn, sql, step=rows)


def _apply(
    conn: duckdb.DuckDBPyConnection,
    table: TableSpec,
    rows: pa.Table,
    ranges: _KeyRanges,
    *,
    mode: WriteMode,
    has_key: bool,
) -> int:
    """Merge the step's rows (keys unique) into the table; return rows written.

    Without a primary key (tables pinads creates) the rows already there are found through
    the step's key ranges: DuckDB skips every row group whose min/max lie outside them, so a
    first load or a new day costs a probe, and only overlapping keys are deleted and written
    again. With one (tables of earlier versions), ON CONFLICT finds them through the index.
    """
    name = quote_ident(table.name)
    cols = ", ".join(map(quote_ident, table.column_names))
    if mode is WriteMode.APPEND or not table.key:
        return _insert(conn, table, rows)
    keys = ", ".join(map(quote_ident, table.key))
    select = f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {_STEP}"
    if has_key:
        action = (
            "DO NOTHING" if mode is WriteMode.INSERT_IGNORE else _on_conflict_update(conn, table)
        )
        return _count(conn, f"{select} ON CONFLICT ({keys}) {action}", step=rows)
    bounds, params = ranges.bounds(qualifier=name)
    if _one(conn, f"SELECT 1 FROM {name} WHERE {bounds} LIMIT 1", params) is None:
        return _insert(conn, table, rows)
    if mode is WriteMode.INSERT_IGNORE:
        known = f"(SELECT {keys} FROM {name} WHERE {bounds})"
        return _count(conn, f"{select} ANTI JOIN {known} AS known USING ({keys})", params, rows)
    # Key columns with one value in the step are matched by the bounds already.
    same = [f"{name}.{quote_ident(k)} = {_STEP}.{quote_ident(k)}" for k in ranges.varying]
    where = " AND ".join([bounds, *same])
    _exec(conn, f"DELETE FROM {name} USING {_STEP} WHERE {where}", params, rows)
    return _insert(conn, table, rows)


class _KeyRanges:
    """The min and max of each key column of a step (keys are never null, rows > 0). Analytics
    keys carry the attribution settings and the account, one value per step: only the columns
    that vary need hashing to find repeated or existing keys."""

    def __init__(self, rows: pa.Table, key: tuple[str, ...]) -> None:
        self.extents = {col: pc.min_max(rows.column(col)).as_py() for col in key}
        self.varying = [col for col, e in self.extents.items() if e["min"] != e["max"]]

    def bounds(self, *, qualifier: str) -> tuple[str, list[object]]:
        """`col BETWEEN min AND max` for each key column: DuckDB skips row groups outside."""
        parts: list[str] = []
        params: list[object] = []
        for col, extent in self.extents.items():
            parts.append(f"{qualifier}.{quote_ident(col)} BETWEEN ? AND ?")
            params += [extent["min"], extent["max"]]
        return " AND ".join(parts), params

    def repeats(self, conn: duckdb.DuckDBPyConnection, rows: pa.Table) -> bool:
        """Whether a key appears twice in the step."""
        if not self.extents:
            return False
        if not self.varying:
            return bool(rows.num_rows > 1)
        keys = ", ".join(map(quote_ident, self.varying))
        row = _one(
            conn,
            f"SELECT count(*) FROM (SELECT 1 FROM {_STEP} GROUP BY {keys} HAVING count(*) > 1)",
            step=rows,
        )
        return bool(row and row[0])


def _on_conflict_update(conn: duckdb.DuckDBPyConnection, table: TableSpec) -> str:
    """DO UPDATE clause of an upsert: the row is replaced, so columns the spec lacks become NULL."""
    rows = _exec(
        conn,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = current_schema() "
        "AND table_name = ?",
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
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object] | None = None,
    step: pa.Table | None = None,
) -> list[tuple[object, ...]]:
    """Execute and fetch everything: DuckDB refuses new work while a result is unfinished.

    `sql` reads a step's rows as `_pinads_step_rows`, this frame's local found by DuckDB's
    replacement scan: an Arrow table registered as a view instead would be kept alive by DuckDB
    until the transaction ends (every step of a multi-step transaction, ~7 MB each)."""
    _pinads_step_rows = step  # read by DuckDB (see above)
    return conn.execute(sql, params).fetchall()


def _one(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object] | None = None,
    step: pa.Table | None = None,
) -> tuple[object, ...] | None:
    rows = _exec(conn, sql, params, step)
    return rows[0] if rows else None


def _count(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object] | None = None,
    step: pa.Table | None = None,
) -> int:
    row = _one(conn, sql, params, step)
    return int(str(row[0])) if row else 0


def _save_checkpoints(
    conn: duckdb.DuckDBPyConnection, table_name: str, scope: str, steps: list[tuple[str, int]]
) -> None:
    values = ", ".join("(?, ?, ?, ?)" for _ in steps)
    params: list[object] = []
    for step_id, rows in steps:
        params += [table_name, scope, step_id, rows]
    _exec(
        conn,
        f"INSERT INTO {CHECKPOINT_TABLE} (table_name, scope, step_id, rows_written) "
        f"VALUES {values} ON CONFLICT (table_name, scope, step_id) "
        "DO UPDATE SET rows_written = excluded.rows_written, committed_at = now()",
        params,
    )
