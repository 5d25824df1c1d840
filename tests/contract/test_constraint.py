"""A constraint the engine enforces, hit half-way through a step: nothing of the step is kept.

The table is created beforehand with a CHECK constraint (as a user may add one) and carries a
checkpoint, as a table of an earlier pinads version does (so pinads adopts it), so the engine
itself refuses a row in the middle of the bulk write: once on the path for new keys only (the
direct bulk insert) and once on the path for keys already there (old rows removed first). Files
have no constraints; their mid-write failure is the killed process of test_crash.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import psycopg
import pytest
from contract_helpers import (
    PG_DSN,
    Target,
    batches,
    expected_rows,
    grid,
    latest_by_key,
    row,
    spec,
    table_rows,
)

from pinads.errors import LoadError
from pinads.load import Destination
from pinads.load.types import duckdb_type, postgres_type
from pinads.values import TableSpec, WriteMode

SCOPE = "source:campaign_daily"
UPSERT = WriteMode.UPSERT
CHECK = "CONSTRAINT impressions_not_negative CHECK (impression_1 >= 0)"


def _create_with_check(target: Target, table: TableSpec) -> None:
    key = f"PRIMARY KEY ({', '.join(table.key)})"
    dest = target.open()
    dest.check()  # creates pinads' checkpoint table
    dest.close()
    legacy = f"INSERT INTO _pinads_checkpoints VALUES ('{table.name}', 'old', 'old', 0, now())"
    if target.kind == "postgres":
        schema = parse_qs(urlsplit(target.url).query)["schema"][0]
        cols = ", ".join(f'"{c.name}" {postgres_type(c.arrow_type)}' for c in table.columns)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE TABLE "{schema}"."{table.name}" ({cols}, {key}, {CHECK})')
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(legacy)
        return
    path = target.url.removeprefix("duckdb://")
    cols = ", ".join(f'"{c.name}" {duckdb_type(c.arrow_type)}' for c in table.columns)
    with duckdb.connect(path) as conn:
        conn.execute(f'CREATE TABLE "{table.name}" ({cols}, {key}, {CHECK})')
        conn.execute(legacy)


def _with_bad_row_last(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*rows[:-1], {**rows[-1], "impression_1": -5}]


def _rows(dest: Destination, table: TableSpec) -> list[tuple[Any, ...]]:
    return table_rows(dest.read_table(table.name), table.column_names)


@pytest.mark.parametrize("target", ["duckdb", "postgres"], indirect=True)
def test_constraint_hit_mid_step_keeps_previous_data_and_checkpoint(target: Target) -> None:
    table = spec()
    _create_with_check(target, table)
    dest = target.open()
    old = grid(range(0, 4), range(3), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")

    only_new_keys = grid(range(10, 14), range(3), spend=2)
    overlapping = grid(range(2, 8), range(3), spend=2)
    for attempt in (only_new_keys, overlapping):
        with pytest.raises(LoadError, match=r"(?i)check constraint") as refused:
            dest.write_step(
                table,
                batches(table, _with_bad_row_last(attempt)),
                mode=UPSERT,
                scope=SCOPE,
                step_id="b",
            )
        assert "nothing" in str(refused.value)  # says the step was not kept
        assert _rows(dest, table) == expected_rows(old, table.column_names)
        assert dest.completed_steps(table.name, SCOPE) == {"a"}

    # The source sends valid rows again: the next run completes the step.
    fixed = [*overlapping, row(9, 9, spend=3)]
    dest.write_step(table, batches(table, fixed), mode=UPSERT, scope=SCOPE, step_id="b")
    assert _rows(dest, table) == expected_rows(latest_by_key(old, fixed), table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}
