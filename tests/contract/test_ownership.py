"""Every destination writes only what pinads created, and checkpoints do not outlive their table.

SQL destinations: a table the user made (even with the very columns pinads would write) is
refused in every write mode and left as it was; a table pinads made and someone replaced by
hand is refused too; a table of an earlier pinads version (no registry, but pinads'
checkpoints) is adopted. File destinations: a directory without pinads' manifest is refused.
A table dropped by hand takes its checkpoints with it: its steps are written again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import psycopg
import pytest
from contract_helpers import PG_DSN, Target, batches, expected_rows, grid, spec, table_rows

from pinads.errors import ConfigError
from pinads.load import Destination
from pinads.load.types import duckdb_type, postgres_type
from pinads.values import TableSpec, WriteMode

SCOPE = "backfill"
SQL = pytest.mark.parametrize("target", ["duckdb", "postgres"], indirect=True)


def _sql(target: Target, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements as the user would, in their own connection; the last one's rows."""
    rows: list[tuple[Any, ...]] = []
    if target.kind == "postgres":
        schema = parse_qs(urlsplit(target.url).query)["schema"][0]
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            for statement in statements:
                cur = conn.execute(statement)
                rows = cur.fetchall() if cur.description else []
        return rows
    with duckdb.connect(target.url.removeprefix("duckdb://")) as conn:
        for statement in statements:
            rows = conn.execute(statement).fetchall()
    return rows


def _users_table(target: Target, table: TableSpec) -> None:
    """The user's own table under the source's name, with pinads' very columns and two rows."""
    typed = postgres_type if target.kind == "postgres" else duckdb_type
    cols = ", ".join(f'"{c.name}" {typed(c.arrow_type)}' for c in table.columns)
    _sql(
        target,
        f"CREATE TABLE {table.name} ({cols})",
        f"INSERT INTO {table.name} (date, ad_account_id, campaign_id) "
        "VALUES ('2026-01-01', 'mine', 'a'), ('2026-01-02', 'mine', 'b')",
    )


def _contents(target: Target, name: str) -> list[tuple[Any, ...]]:
    return sorted(_sql(target, f"SELECT * FROM {name}"), key=repr)


def _refused(action: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        action()
    return str(caught.value)


@SQL
def test_a_users_table_is_refused_in_every_mode_and_left_as_it_was(target: Target) -> None:
    table = spec()
    _users_table(target, table)
    before = _contents(target, table.name)
    dest = target.open()
    rows = grid(range(2), range(2))
    message = _refused(lambda: dest.check_table(table.name))
    assert f"table {table.name!r} already exists in" in message
    assert "pinads did not create it" in message and "rename the source" in message
    for mode in (WriteMode.UPSERT, WriteMode.APPEND, WriteMode.INSERT_IGNORE):
        _refused(
            lambda mode=mode: dest.write_step(
                table, batches(table, rows), mode=mode, scope=SCOPE, step_id="1"
            )
        )
    _refused(lambda: dest.begin_replace(table))
    dest.close()
    assert _contents(target, table.name) == before
    assert not _sql(target, f"SELECT * FROM _pinads_checkpoints WHERE table_name = '{table.name}'")


@SQL
def test_a_table_replaced_by_hand_is_no_longer_pinads(target: Target) -> None:
    table = spec()
    dest = target.open()
    dest.write_step(
        table,
        batches(table, grid(range(2), range(2))),
        mode=WriteMode.UPSERT,
        scope=SCOPE,
        step_id="1",
    )
    dest.close()
    _sql(target, f"DROP TABLE {table.name}")
    _users_table(target, table)
    before = _contents(target, table.name)
    dest = target.open()
    message = _refused(
        lambda: dest.write_step(
            table,
            batches(table, grid(range(1), range(1))),
            mode=WriteMode.UPSERT,
            scope=SCOPE,
            step_id="2",
        )
    )
    assert "is no longer the table pinads created" in message
    assert "restore its comment to 'pinads:" in message
    dest.close()
    assert _contents(target, table.name) == before


@SQL
def test_a_table_of_an_earlier_version_is_adopted_by_its_checkpoints(target: Target) -> None:
    table = spec()
    dest = target.open()
    first = grid(range(2), range(2), spend=1)
    dest.write_step(table, batches(table, first), mode=WriteMode.UPSERT, scope=SCOPE, step_id="1")
    dest.close()
    # What an earlier version left: the table and its checkpoints, no registry, no comment.
    _sql(target, "DROP TABLE _pinads_tables", f"COMMENT ON TABLE {table.name} IS NULL")
    dest = target.open()
    dest.check_table(table.name)
    second = grid(range(1, 3), range(2), spend=2)
    dest.write_step(table, batches(table, second), mode=WriteMode.UPSERT, scope=SCOPE, step_id="2")
    assert dest.completed_steps(table.name, SCOPE) == {"1", "2"}
    dest.close()
    registered = _sql(target, "SELECT table_name, source_name FROM _pinads_tables")
    assert registered == [(table.name, table.name)]


@pytest.mark.parametrize("target", ["duckdb", "postgres", "csv"], indirect=True)
def test_a_dropped_table_takes_its_checkpoints_with_it(target: Target, tmp_path: Path) -> None:
    table = spec()
    dest = target.open()
    rows = grid(range(3), range(2))
    for step in ("1", "2"):
        dest.write_step(
            table, batches(table, rows), mode=WriteMode.UPSERT, scope=SCOPE, step_id=step
        )
    dest.close()
    if target.kind == "csv":
        shutil.rmtree(tmp_path / "files" / table.name)
    else:
        _sql(target, f"DROP TABLE {table.name}")
    dest = target.open()
    forgotten = dest.reset_if_missing(table.name, SCOPE)
    assert forgotten == (set() if target.kind == "csv" else {"1", "2"})
    assert dest.completed_steps(table.name, SCOPE) == set()
    dest.write_step(table, batches(table, rows), mode=WriteMode.UPSERT, scope=SCOPE, step_id="1")
    assert dest.completed_steps(table.name, SCOPE) == {"1"}
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        rows, table.column_names
    )


@SQL
def test_a_table_dropped_and_recreated_by_pinads_resets_old_checkpoints(target: Target) -> None:
    table = spec()
    dest = target.open()
    rows = grid(range(2), range(2))
    dest.write_step(table, batches(table, rows), mode=WriteMode.UPSERT, scope="other", step_id="x")
    dest.close()
    _sql(target, f"DROP TABLE {table.name}")
    dest = target.open()
    # Written without reset_if_missing first (a scheduled run): the new table starts clean.
    dest.write_step(table, batches(table, rows), mode=WriteMode.UPSERT, scope=SCOPE, step_id="1")
    assert dest.completed_steps(table.name, "other") == set()
    dest.close()


@pytest.mark.parametrize("target", ["parquet", "jsonl"], indirect=True)
def test_a_directory_without_pinads_manifest_is_refused_and_kept(
    target: Target, tmp_path: Path
) -> None:
    table = spec()
    mine = tmp_path / "files" / table.name
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    dest: Destination = target.open()
    rows = grid(range(2), range(2))
    message = _refused(lambda: dest.check_table(table.name))
    assert f"{mine} already exists and pinads did not create it" in message
    _refused(
        lambda: dest.write_step(
            table, batches(table, rows), mode=WriteMode.UPSERT, scope=SCOPE, step_id="1"
        )
    )
    _refused(lambda: dest.begin_replace(table))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    mine.joinpath("notes.txt").unlink()  # an empty directory is fine to write into
    dest.write_step(table, batches(table, rows), mode=WriteMode.UPSERT, scope=SCOPE, step_id="1")
    assert dest.completed_steps(table.name, SCOPE) == {"1"}
