"""PostgreSQL destination: COPY into a temp staging table, then the write mode, one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from pinads.errors import LoadError
from pinads.load.conform import collect_step
from pinads.load.ownership import (
    Ownership,
    check_grain,
    claim_table,
    forget_table,
    ownership,
    refusal,
    register_table,
    reset_if_missing,
    rows_moved,
    table_moved,
)
from pinads.load.postgres_sql import (
    CONNECT_TIMEOUT_SECONDS,
    PostgresTarget,
    connect_failure,
    ident,
    idents,
    primary_key,
    table_columns,
)
from pinads.load.postgres_tables import PostgresCatalog, registry_ddl
from pinads.load.postgres_write import write_rows
from pinads.load.spec import OnCommit, StepItem, write_each
from pinads.load.types import arrow_from_postgres, postgres_type
from pinads.values import TableSpec, WriteMode, shadow_name

__all__ = ["CHECKPOINT_TABLE", "PostgresDestination"]

CHECKPOINT_TABLE = "_pinads_checkpoints"

Cursor = psycopg.Cursor[Any]


class PostgresDestination:
    """Tables in one schema of a PostgreSQL database; one connection, reopened if it breaks."""

    def __init__(self, target: PostgresTarget, *, url: str) -> None:
        self.url = url
        self.target = target
        self._lock = threading.RLock()
        self._connection: psycopg.Connection[Any] | None = None

    # -- connection -------------------------------------------------------------------------

    def _conn(self) -> psycopg.Connection[Any]:
        conn = self._connection
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        try:
            conn = psycopg.connect(
                self.target.conninfo,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=_application_name(self.target),
            )
        except psycopg.Error as exc:
            raise LoadError(connect_failure(self.target, exc)) from exc
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            # Text goes out as UTF-8 bytes (binary COPY included), whatever the server's encoding.
            conn.execute("SET client_encoding TO 'UTF8'")
            with conn.transaction():
                self._prepare_schema(conn.cursor())
        except psycopg.Error as exc:
            conn.close()
            raise LoadError(
                f"PostgreSQL ({self.target.where}) refused to set up schema "
                f"{self.target.schema!r}: {_first_line(exc)}; use another ?schema= in the "
                f"destination URL or grant user {self.target.user!r} CREATE rights there"
            ) from exc
        self._connection = conn
        return conn

    def _prepare_schema(self, cur: Cursor) -> None:
        schema = self.target.schema
        cur.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema))
            if not _schema_exists(cur, schema)
            else sql.SQL("SELECT 1")
        )
        cur.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (table_name text NOT NULL, scope text NOT NULL, "
                "step_id text NOT NULL, rows_written bigint NOT NULL, "
                "committed_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (table_name, scope, step_id))"
            ).format(ident(schema, CHECKPOINT_TABLE))
        )
        cur.execute(registry_ddl(schema))

    @contextmanager
    def _transaction(self, what: str, *, table: str | None = None) -> Iterator[Cursor]:
        """A transaction holding the table's advisory lock (writers of one table take turns)."""
        with self._lock:
            conn = self._conn()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    if table is not None:
                        cur.execute(
                            "SELECT pg_advisory_xact_lock(hashtext(%s))",
                            (f"pinads:{self.target.schema}.{table}",),
                        )
                    yield cur
            except psycopg.Error as exc:
                raise LoadError(self._refused(exc, what)) from exc

    def _refused(self, exc: psycopg.Error, what: str) -> str:
        first = _first_line(exc)
        if isinstance(exc, psycopg.OperationalError) and (
            self._connection is None or self._connection.broken
        ):
            return (
                f"the connection to PostgreSQL at {self.target.where} was lost during {what} "
                f"({first}); nothing of it was kept, rerun when the server is back"
            )
        return (
            f"PostgreSQL ({self.target.where}, schema {self.target.schema!r}) refused to "
            f"{what}: {first}; nothing of it was kept"
        )

    def check(self) -> None:
        with self._transaction("write a test table") as cur:
            # Creating (and dropping) a probe table proves the rights a load needs.
            probe = ident(self.target.schema, "_pinads_check")
            cur.execute(sql.SQL("CREATE TABLE {} (x integer)").format(probe))
            cur.execute(sql.SQL("DROP TABLE {}").format(probe))

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
        rows = collect_step(target, batches, require_key=mode.uses_key)
        with self._transaction(f"write table {table.name!r}", table=table.name) as cur:
            schema = self.target.schema
            if mode is WriteMode.REPLACE and not table_columns(cur, schema, target.name):
                raise LoadError(
                    f"replace mode on table {table.name!r} needs begin_replace() before the "
                    "first step and finish_replace() after the last"
                )
            if mode is WriteMode.APPEND and step_id in self._steps(cur, target.name, scope):
                return 0
            has_key = self._ensure_table(cur, target, with_key=mode.uses_key)
            if mode is WriteMode.APPEND and has_key:
                raise LoadError(
                    f"table {table.name!r} has a primary key, so append mode cannot keep "
                    "several snapshots of a row; append into a new table or use upsert"
                )
            written = write_rows(
                cur, schema=schema, table=target, rows=rows, mode=mode, has_key=has_key
            )
            self._save_checkpoint(cur, target.name, scope=scope, step_id=step_id, rows=written)
            return written

    def write_steps(
        self,
        table: TableSpec,
        steps: Iterable[StepItem],
        *,
        mode: WriteMode,
        scope: str,
        on_commit: OnCommit,
        more_ready: Callable[[], bool] | None = None,
    ) -> None:
        """Each step commits on its own, in the order given (`write_each`)."""
        write_each(self, table, steps, mode=mode, scope=scope, on_commit=on_commit)

    def _ensure_table(self, cur: Cursor, table: TableSpec, *, with_key: bool) -> bool:
        """Create or evolve `table`; return whether it has the spec's key as primary key."""
        schema = self.target.schema
        catalog = self._catalog(cur)
        wanted = [(c.name, postgres_type(c.arrow_type, column=c.name)) for c in table.columns]
        name = ident(schema, table.name)
        # Refuses a table pinads did not create, or created for rows of another grain.
        if not claim_table(catalog, table.name, grain=table.grain):
            cols = [sql.SQL("{} {}").format(ident(n), sql.SQL(t)) for n, t in wanted]
            if with_key and table.key:
                cols.append(sql.SQL("PRIMARY KEY ({})").format(idents(table.key)))
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(name, sql.SQL(", ").join(cols)))
            register_table(catalog, table.name, grain=table.grain)
            return with_key and bool(table.key)
        existing = table_columns(cur, schema, table.name)
        for col_name, sql_type in wanted:
            have = existing.get(col_name)
            if have is None:
                cur.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        name, ident(col_name), sql.SQL(sql_type)
                    )
                )
            elif have != sql_type:
                raise LoadError(
                    f"column {col_name!r} of table {table.name!r} is {have} in PostgreSQL but "
                    f"the source now sends {sql_type}; rename the column or load into a new table"
                )
        key = primary_key(cur, schema, table.name)
        if key is not None and key != table.key:
            raise LoadError(
                f"table {table.name!r} has primary key {key} but the source's key is "
                f"{table.key}; load into a new table or drop the old one"
            )
        return key is not None

    # -- ownership (see ownership.py) --------------------------------------------------------

    def _catalog(self, cur: Cursor) -> PostgresCatalog:
        return PostgresCatalog(cur, target=self.target, checkpoints=CHECKPOINT_TABLE)

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """ConfigError if table `table_name` (or its replace shadow) exists and pinads did not
        create it, or (with `grain`) created it for rows of another grain: called before a run
        spends API calls on rows it could not write."""
        with self._transaction(f"check table {table_name!r}") as cur:
            catalog = self._catalog(cur)
            for name in (table_name, shadow_name(table_name)):
                state = ownership(catalog, name)
                if state in (Ownership.FOREIGN, Ownership.REPLACED):
                    raise refusal(catalog, name, state)
            if grain is not None and ownership(catalog, table_name) is Ownership.OWNED:
                check_grain(catalog, table_name, grain)

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        with self._transaction("check checkpoints", table=table_name) as cur:
            catalog = self._catalog(cur)
            return reset_if_missing(catalog, table_name, shadow_name(table_name), scope=scope)

    # -- checkpoints ------------------------------------------------------------------------

    def _checkpoints(self) -> sql.Composable:
        return ident(self.target.schema, CHECKPOINT_TABLE)

    def _steps(self, cur: Cursor, table_name: str, scope: str) -> set[str]:
        cur.execute(
            sql.SQL("SELECT step_id FROM {} WHERE table_name = %s AND scope = %s").format(
                self._checkpoints()
            ),
            (table_name, scope),
        )
        return {str(r[0]) for r in cur.fetchall()}

    def _save_checkpoint(
        self, cur: Cursor, table_name: str, *, scope: str, step_id: str, rows: int
    ) -> None:
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (table_name, scope, step_id, rows_written) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (table_name, scope, step_id) DO UPDATE SET "
                "rows_written = excluded.rows_written, committed_at = now()"
            ).format(self._checkpoints()),
            (table_name, scope, step_id, rows),
        )

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        with self._transaction("read checkpoints") as cur:
            shadow = shadow_name(table_name)
            in_replace = bool(table_columns(cur, self.target.schema, shadow))
            return self._steps(cur, shadow if in_replace else table_name, scope)

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        query = sql.SQL("DELETE FROM {} WHERE table_name IN (%s, %s) AND scope = %s").format(
            self._checkpoints()
        )
        params: tuple[Any, ...] = (table_name, shadow_name(table_name), scope)
        if step_ids is not None:
            query = query + sql.SQL(" AND step_id = ANY(%s)")
            params = (*params, sorted(step_ids))
        with self._transaction("clear checkpoints", table=table_name) as cur:
            cur.execute(query, params)

    # -- replace runs -----------------------------------------------------------------------

    def begin_replace(self, table: TableSpec) -> None:
        shadow = table.renamed(shadow_name(table.name))
        schema = self.target.schema
        with self._transaction("start a replace run", table=table.name) as cur:
            claim_table(self._catalog(cur), table.name)  # the table it will replace is pinads'
            if table_columns(cur, schema, shadow.name):
                # A crashed replace run left its shadow: resume it (its checkpoints are valid).
                self._ensure_table(cur, shadow, with_key=True)
                return
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE table_name = %s").format(self._checkpoints()),
                (shadow.name,),
            )
            self._ensure_table(cur, shadow, with_key=True)
            for col_name, sql_type in table_columns(cur, schema, table.name).items():
                if col_name not in table.column_names:
                    cur.execute(
                        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                            ident(schema, shadow.name), ident(col_name), sql.SQL(sql_type)
                        )
                    )

    def finish_replace(self, table: TableSpec) -> None:
        schema = self.target.schema
        shadow = shadow_name(table.name)
        with self._transaction("finish a replace run", table=table.name) as cur:
            shadow_cols = table_columns(cur, schema, shadow)
            if not shadow_cols:
                raise LoadError(f"no replace run is in progress for table {table.name!r}")
            catalog = self._catalog(cur)
            claim_table(catalog, table.name)  # never empty or drop a table pinads did not create
            live = table_columns(cur, schema, table.name)
            if live and primary_key(cur, schema, table.name) == primary_key(cur, schema, shadow):
                # Rows are moved rather than the table renamed, so views and grants on it stay.
                self._move_rows(cur, table.name, shadow, live=live, shadow_cols=shadow_cols)
                rows_moved(catalog, shadow, table.name)
            else:
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident(schema, table.name)))
                cur.execute(
                    sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        ident(schema, shadow), ident(table.name)
                    )
                )
                table_moved(catalog, shadow, table.name)
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE table_name = %s").format(self._checkpoints()),
                (table.name,),
            )
            cur.execute(
                sql.SQL("UPDATE {} SET table_name = %s WHERE table_name = %s").format(
                    self._checkpoints()
                ),
                (table.name, shadow),
            )

    def _move_rows(
        self,
        cur: Cursor,
        name: str,
        shadow: str,
        *,
        live: dict[str, str],
        shadow_cols: dict[str, str],
    ) -> None:
        schema = self.target.schema
        for col, sql_type in shadow_cols.items():
            if col not in live:
                cur.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        ident(schema, name), ident(col), sql.SQL(sql_type)
                    )
                )
        cols = idents(list(shadow_cols))
        # DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe and could show readers an empty table.
        cur.execute(sql.SQL("DELETE FROM {}").format(ident(schema, name)))
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                ident(schema, name), cols, cols, ident(schema, shadow)
            )
        )
        cur.execute(sql.SQL("DROP TABLE {}").format(ident(schema, shadow)))

    def abort_replace(self, table_name: str) -> None:
        shadow = shadow_name(table_name)
        with self._transaction("abort a replace run", table=table_name) as cur:
            catalog = self._catalog(cur)
            if ownership(catalog, shadow) in (Ownership.OWNED, Ownership.ADOPTABLE):
                cur.execute(sql.SQL("DROP TABLE {}").format(ident(self.target.schema, shadow)))
            forget_table(catalog, shadow)

    # -- reading ----------------------------------------------------------------------------

    def read_table(self, table_name: str) -> pa.Table:
        with self._transaction(f"read table {table_name!r}") as cur:
            columns = table_columns(cur, self.target.schema, table_name)
            if not columns:
                raise LoadError(
                    f"table {table_name!r} does not exist in schema {self.target.schema!r}"
                )
            schema = pa.schema([(n, arrow_from_postgres(t)) for n, t in columns.items()])
            cur.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    idents(list(columns)), ident(self.target.schema, table_name)
                )
            )
            parts = []
            while rows := cur.fetchmany(10_000):
                parts.append(
                    pa.Table.from_pylist(
                        [dict(zip(columns, r, strict=True)) for r in rows], schema=schema
                    )
                )
            return pa.concat_tables(parts) if parts else schema.empty_table()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _application_name(target: PostgresTarget) -> str:
    params = psycopg.conninfo.conninfo_to_dict(target.conninfo)
    return str(params.get("application_name") or "pinads")


def _schema_exists(cur: Cursor, schema: str) -> bool:
    # CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None
