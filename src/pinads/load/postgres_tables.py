"""The ownership registry of a PostgreSQL schema (see ownership.py): `_pinads_tables` and
table comments."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pinads.load.ownership import REGISTRY_TABLE
from pinads.load.postgres_sql import PostgresTarget, ident

__all__ = ["PostgresCatalog", "registry_ddl"]


def registry_ddl(schema: str) -> sql.Composed:
    # The grain column came later: added when missing only, as ALTER TABLE would lock the
    # registry against every other writer of the schema at each open.
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {table} (table_name text PRIMARY KEY, "
        "source_name text NOT NULL, table_id text NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now(), grain text); "
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = {schema} AND table_name = {name} AND column_name = 'grain') "
        "THEN ALTER TABLE {table} ADD COLUMN grain text; END IF; END $$"
    ).format(
        table=ident(schema, REGISTRY_TABLE),
        schema=sql.Literal(schema),
        name=sql.Literal(REGISTRY_TABLE),
    )


class PostgresCatalog:
    """`TableCatalog` over a cursor inside the caller's transaction."""

    def __init__(self, cur: psycopg.Cursor[Any], *, target: PostgresTarget, checkpoints: str):
        self.cur = cur
        self.schema = target.schema
        self.where = f"schema {target.schema!r} of {target.where}"
        self.registry = ident(target.schema, REGISTRY_TABLE)
        self.checkpoints = ident(target.schema, checkpoints)

    def _one(self, query: sql.Composed | str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        self.cur.execute(query, params)
        return self.cur.fetchone()

    def exists(self, name: str) -> bool:
        return self._relation(name) is not None

    def _relation(self, name: str) -> tuple[Any, ...] | None:
        return self._one(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            (self.schema, name),
        )

    def comment(self, name: str) -> str | None:
        relation = self._relation(name)
        if relation is None:
            return None
        row = self._one("SELECT obj_description(%s, 'pg_class')", (relation[0],))
        return str(row[0]) if row and row[0] is not None else None

    def set_comment(self, name: str, text: str) -> None:
        self.cur.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(ident(self.schema, name), sql.Literal(text))
        )

    def registered_id(self, name: str) -> str | None:
        row = self._one(
            sql.SQL("SELECT table_id FROM {} WHERE table_name = %s").format(self.registry),
            (name,),
        )
        return str(row[0]) if row else None

    def register(self, name: str, *, source: str, table_id: str, grain: str | None) -> None:
        self.cur.execute(
            sql.SQL(
                "INSERT INTO {} (table_name, source_name, table_id, grain) "
                "VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (table_name) DO UPDATE SET source_name = excluded.source_name, "
                "table_id = excluded.table_id, grain = excluded.grain, created_at = now()"
            ).format(self.registry),
            (name, source, table_id, grain),
        )

    def registered_grain(self, name: str) -> str | None:
        row = self._one(
            sql.SQL("SELECT grain FROM {} WHERE table_name = %s").format(self.registry), (name,)
        )
        return str(row[0]) if row and row[0] is not None else None

    def set_grain(self, name: str, grain: str | None) -> None:
        self.cur.execute(
            sql.SQL("UPDATE {} SET grain = %s WHERE table_name = %s").format(self.registry),
            (grain, name),
        )

    def unregister(self, name: str) -> None:
        self.cur.execute(
            sql.SQL("DELETE FROM {} WHERE table_name = %s").format(self.registry), (name,)
        )

    def rename_registration(self, old: str, new: str) -> None:
        self.unregister(new)
        self.cur.execute(
            sql.SQL("UPDATE {} SET table_name = %s, source_name = %s WHERE table_name = %s").format(
                self.registry
            ),
            (new, new, old),
        )

    def checkpoint_count(self, name: str) -> int:
        query = sql.SQL("SELECT count(*) FROM {} WHERE table_name = %s").format(self.checkpoints)
        row = self._one(query, (name,))
        return int(row[0]) if row else 0

    def checkpoint_steps(self, name: str, scope: str) -> set[str]:
        self.cur.execute(
            sql.SQL("SELECT step_id FROM {} WHERE table_name = %s AND scope = %s").format(
                self.checkpoints
            ),
            (name, scope),
        )
        return {str(row[0]) for row in self.cur.fetchall()}

    def checkpoint_rows(self, name: str) -> int:
        query = sql.SQL(
            "SELECT coalesce(sum(rows_written), 0) FROM {} WHERE table_name = %s"
        ).format(self.checkpoints)
        row = self._one(query, (name,))
        return int(row[0]) if row else 0

    def delete_checkpoints(self, name: str) -> None:
        self.cur.execute(
            sql.SQL("DELETE FROM {} WHERE table_name = %s").format(self.checkpoints), (name,)
        )

    def is_empty(self, name: str) -> bool:
        return (
            self._one(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(ident(self.schema, name)), ())
            is None
        )
