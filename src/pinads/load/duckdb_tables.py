"""The ownership registry of a DuckDB file (see ownership.py): `_pinads_tables` and comments."""

# SQL is assembled from identifiers quote_ident() quotes; values always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

from pathlib import Path

import duckdb

from pinads.load.conform import quote_ident
from pinads.load.ownership import REGISTRY_TABLE

__all__ = ["REGISTRY_DDL", "DuckDBCatalog"]

# No primary key: a DuckDB transaction that deletes a key and inserts it again would be refused.
REGISTRY_DDL = f"""
CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} (
    table_name VARCHAR NOT NULL,
    source_name VARCHAR NOT NULL,
    table_id VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
ALTER TABLE {REGISTRY_TABLE} ADD COLUMN IF NOT EXISTS grain VARCHAR"""

_HERE = "database_name = current_database() AND schema_name = current_schema()"


class DuckDBCatalog:
    """`TableCatalog` over a DuckDB connection (inside the caller's transaction)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, *, path: Path, checkpoints: str) -> None:
        self.conn = conn
        self.where = f"the DuckDB file {path}"
        self.checkpoints = checkpoints

    def _rows(self, sql: str, params: list[object]) -> list[tuple[object, ...]]:
        # Fetched to the end: DuckDB refuses new work while a result is unfinished.
        return self.conn.execute(sql, params).fetchall()

    def exists(self, name: str) -> bool:
        sql = (
            f"SELECT 1 FROM duckdb_tables() WHERE {_HERE} AND table_name = ? UNION ALL "
            f"SELECT 1 FROM duckdb_views() WHERE {_HERE} AND view_name = ?"
        )
        return bool(self._rows(sql, [name, name]))

    def comment(self, name: str) -> str | None:
        rows = self._rows(
            f"SELECT comment FROM duckdb_tables() WHERE {_HERE} AND table_name = ?", [name]
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_comment(self, name: str, text: str) -> None:
        # COMMENT ON takes no parameters: the text is pinads' own, quotes doubled all the same.
        literal = text.replace("'", "''")
        self._rows(f"COMMENT ON TABLE {quote_ident(name)} IS '{literal}'", [])

    def registered_id(self, name: str) -> str | None:
        rows = self._rows(f"SELECT table_id FROM {REGISTRY_TABLE} WHERE table_name = ?", [name])
        return str(rows[0][0]) if rows else None

    def register(self, name: str, *, source: str, table_id: str, grain: str | None) -> None:
        self.unregister(name)
        self._rows(
            f"INSERT INTO {REGISTRY_TABLE} (table_name, source_name, table_id, grain) "
            "VALUES (?, ?, ?, ?)",
            [name, source, table_id, grain],
        )

    def registered_grain(self, name: str) -> str | None:
        rows = self._rows(f"SELECT grain FROM {REGISTRY_TABLE} WHERE table_name = ?", [name])
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_grain(self, name: str, grain: str | None) -> None:
        self._rows(f"UPDATE {REGISTRY_TABLE} SET grain = ? WHERE table_name = ?", [grain, name])

    def unregister(self, name: str) -> None:
        self._rows(f"DELETE FROM {REGISTRY_TABLE} WHERE table_name = ?", [name])

    def rename_registration(self, old: str, new: str) -> None:
        self.unregister(new)
        self._rows(
            f"UPDATE {REGISTRY_TABLE} SET table_name = ?, source_name = ? WHERE table_name = ?",
            [new, new, old],
        )

    def checkpoint_count(self, name: str) -> int:
        sql = f"SELECT count(*) FROM {self.checkpoints} WHERE table_name = ?"
        return int(str(self._rows(sql, [name])[0][0]))

    def checkpoint_steps(self, name: str, scope: str) -> set[str]:
        sql = f"SELECT step_id FROM {self.checkpoints} WHERE table_name = ? AND scope = ?"
        return {str(row[0]) for row in self._rows(sql, [name, scope])}

    def checkpoint_rows(self, name: str) -> int:
        sql = f"SELECT coalesce(sum(rows_written), 0) FROM {self.checkpoints} WHERE table_name = ?"
        return int(str(self._rows(sql, [name])[0][0]))

    def delete_checkpoints(self, name: str) -> None:
        self._rows(f"DELETE FROM {self.checkpoints} WHERE table_name = ?", [name])

    def is_empty(self, name: str) -> bool:
        return not self._rows(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1", [])
