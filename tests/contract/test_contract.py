"""The destination contract: every destination gives the same rows and the same guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from contract_helpers import (
    BASE_COLUMNS,
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
from pinads.values import ColumnSpec, TableSpec, WriteMode

UPSERT = WriteMode.UPSERT
SCOPE = "source:campaign_daily"


def _rows(dest: Destination, table: TableSpec) -> list[tuple[Any, ...]]:
    return table_rows(dest.read_table(table.name), table.column_names)


def test_same_batches_give_the_same_rows(dest: Destination) -> None:
    table = spec()
    rows = grid(range(5), range(6))
    written = dest.write_step(table, batches(table, rows), mode=UPSERT, scope=SCOPE, step_id="s1")
    assert written == 30
    assert _rows(dest, table) == expected_rows(rows, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"s1"}


def test_read_table_keeps_exact_types(dest: Destination) -> None:
    table = spec()
    rows = [row(0, 1, campaign_name=None, ctr=None, is_active=None), row(1, 2, campaign_name="")]
    dest.write_step(table, batches(table, rows), mode=UPSERT, scope=SCOPE, step_id="s1")
    got = dest.read_table(table.name)
    for col in BASE_COLUMNS:
        assert got.schema.field(col.name).type == col.arrow_type, col.name
    by_campaign = {r["campaign_id"]: r for r in got.to_pylist()}
    assert by_campaign["626535600001"]["campaign_name"] is None
    assert by_campaign["626535600002"]["campaign_name"] == ""
    assert by_campaign["626535600001"]["spend_in_micro_dollar"] == 9_007_199_254_740_993


def test_upsert_overwrites_known_keys_and_adds_new_ones(dest: Destination) -> None:
    table = spec()
    first = grid(range(0, 4), range(3), spend=1)
    second = grid(range(2, 6), range(3), spend=2)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope=SCOPE, step_id="a")
    assert (
        dest.write_step(table, batches(table, second), mode=UPSERT, scope=SCOPE, step_id="b") == 12
    )
    assert _rows(dest, table) == expected_rows(latest_by_key(first, second), table.column_names)


def test_duplicate_keys_in_one_step_last_one_wins(dest: Destination) -> None:
    table = spec()
    rows = [row(0, 1, spend=1), row(0, 2), row(0, 1, spend=2), row(0, 1, spend=3)]
    for mode in (WriteMode.UPSERT, WriteMode.INSERT_IGNORE):
        name = f"dupes_{mode.value}"
        t = spec(name)
        assert (
            dest.write_step(t, batches(t, rows, size=1), mode=mode, scope=SCOPE, step_id="a") == 2
        )
        assert _rows(dest, t) == expected_rows([rows[1], rows[3]], t.column_names)
    assert table.name != "dupes"


def test_append_keeps_every_snapshot(dest: Destination) -> None:
    table = spec("snapshots")
    rows = grid(range(2), range(3))
    mode = WriteMode.APPEND
    dest.write_step(table, batches(table, rows), mode=mode, scope=SCOPE, step_id="run1")
    dest.write_step(table, batches(table, rows), mode=mode, scope=SCOPE, step_id="run2")
    # A rerun of a checkpointed append step must not duplicate its snapshot.
    assert dest.write_step(table, batches(table, rows), mode=mode, scope=SCOPE, step_id="run2") == 0
    assert _rows(dest, table) == expected_rows(rows + rows, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"run1", "run2"}


def test_upsert_into_a_table_made_by_append_merges_by_key(dest: Destination) -> None:
    """A table first written in append mode has no primary key; upsert still merges by key."""
    table = spec("snapshots")
    snapshot = grid(range(3), range(2), spend=1)
    append = WriteMode.APPEND
    dest.write_step(table, batches(table, snapshot), mode=append, scope=SCOPE, step_id="s1")
    dest.write_step(table, batches(table, snapshot), mode=append, scope=SCOPE, step_id="s2")
    update = [*grid(range(2, 4), range(2), spend=2), row(3, 1, spend=3)]  # last one wins
    assert (
        dest.write_step(table, batches(table, update), mode=UPSERT, scope=SCOPE, step_id="u") == 4
    )
    kept = [r for r in snapshot if r["date"] < update[0]["date"]]
    assert _rows(dest, table) == expected_rows(
        kept + kept + latest_by_key(update), table.column_names
    )
    ignore = WriteMode.INSERT_IGNORE
    extra = [row(0, 0, spend=9), row(7, 0, spend=9)]
    assert dest.write_step(table, batches(table, extra), mode=ignore, scope=SCOPE, step_id="i") == 1
    assert _rows(dest, table) == expected_rows(
        [*kept, *kept, *latest_by_key(update), extra[1]], table.column_names
    )


def test_insert_ignore_keeps_existing_rows(dest: Destination) -> None:
    table = spec()
    mode = WriteMode.INSERT_IGNORE
    first = grid(range(0, 3), range(2), spend=1)
    second = grid(range(2, 5), range(2), spend=2)
    dest.write_step(table, batches(table, first), mode=mode, scope=SCOPE, step_id="a")
    assert dest.write_step(table, batches(table, second), mode=mode, scope=SCOPE, step_id="b") == 4
    assert _rows(dest, table) == expected_rows(latest_by_key(second, first), table.column_names)


def test_replace_swaps_in_the_whole_run_at_the_end(dest: Destination) -> None:
    table = spec()
    old = grid(range(0, 5), range(3), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="old")
    new_a, new_b = grid(range(10, 12), range(2), spend=2), grid(range(12, 14), range(2), spend=2)
    dest.begin_replace(table)
    assert dest.completed_steps(table.name, SCOPE) == set()
    mode = WriteMode.REPLACE
    dest.write_step(table, batches(table, new_a), mode=mode, scope=SCOPE, step_id="a")
    dest.write_step(table, batches(table, new_b), mode=mode, scope=SCOPE, step_id="b")
    # Readers still see the old table until the run finishes.
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}
    dest.finish_replace(table)
    assert _rows(dest, table) == expected_rows(new_a + new_b, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}


def test_replace_interrupted_keeps_old_data_and_resumes(target: Target) -> None:
    table = spec()
    dest = target.open()
    old = grid(range(0, 3), range(2), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="old")
    dest.begin_replace(table)
    new_a, new_b = grid(range(5, 7), range(2), spend=3), grid(range(7, 9), range(2), spend=3)
    dest.write_step(table, batches(table, new_a), mode=WriteMode.REPLACE, scope=SCOPE, step_id="a")
    dest.close()  # the run dies here

    dest = target.open()
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    dest.begin_replace(table)  # the next run resumes: step "a" is done
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    dest.write_step(table, batches(table, new_b), mode=WriteMode.REPLACE, scope=SCOPE, step_id="b")
    dest.finish_replace(table)
    assert _rows(dest, table) == expected_rows(new_a + new_b, table.column_names)


def test_abort_replace_drops_the_shadow(dest: Destination) -> None:
    table = spec()
    old = grid(range(2), range(2))
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="old")
    dest.begin_replace(table)
    dest.write_step(
        table,
        batches(table, grid(range(9, 10), range(1))),
        mode=WriteMode.REPLACE,
        scope=SCOPE,
        step_id="x",
    )
    dest.abort_replace(table.name)
    assert dest.completed_steps(table.name, SCOPE) == {"old"}
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    with pytest.raises(LoadError, match="finish_replace"):
        dest.write_step(
            table, batches(table, old), mode=WriteMode.REPLACE, scope=SCOPE, step_id="y"
        )


def test_rerun_of_the_same_step_is_idempotent(dest: Destination) -> None:
    table = spec()
    rows = grid(range(4), range(4))
    for _ in range(3):
        dest.write_step(table, batches(table, rows), mode=UPSERT, scope=SCOPE, step_id="s1")
    assert _rows(dest, table) == expected_rows(rows, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"s1"}


class ExtractionStoppedError(RuntimeError):
    """Stands for whatever stops the extraction half-way (an API error, a crash)."""


def _failing(
    table: TableSpec, rows: list[dict[str, Any]], *, after: int
) -> Iterator[pa.RecordBatch]:
    for i, batch in enumerate(batches(table, rows, size=3)):
        if i == after:
            raise ExtractionStoppedError("extraction stopped half-way")
        yield batch


def test_failure_half_way_keeps_previous_data_and_checkpoint(dest: Destination) -> None:
    table = spec()
    old = grid(range(0, 4), range(3), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")
    new = grid(range(2, 8), range(3), spend=2)
    with pytest.raises(ExtractionStoppedError):
        dest.write_step(table, _failing(table, new, after=3), mode=UPSERT, scope=SCOPE, step_id="b")
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    dest.write_step(table, batches(table, new), mode=UPSERT, scope=SCOPE, step_id="b")
    assert _rows(dest, table) == expected_rows(latest_by_key(old, new), table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}


def _bad_value_batches(table: TableSpec, rows: list[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    yield from batches(table, rows, size=4)
    loose = pa.schema(
        [
            f if f.name != "impression_1" else pa.field("impression_1", pa.string())
            for f in table.schema
        ]
    )
    bad = {**rows[0], "impression_1": "not a number"}
    yield pa.RecordBatch.from_pylist([bad], schema=loose)


def test_type_violation_keeps_previous_data_and_checkpoint(dest: Destination) -> None:
    table = spec()
    old = grid(range(3), range(2), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")
    new = grid(range(3), range(2), spend=2)
    with pytest.raises(LoadError, match="impression_1"):
        dest.write_step(
            table, _bad_value_batches(table, new), mode=UPSERT, scope=SCOPE, step_id="b"
        )
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    dest.write_step(table, batches(table, new), mode=UPSERT, scope=SCOPE, step_id="b")
    assert _rows(dest, table) == expected_rows(new, table.column_names)


def test_null_key_is_refused_and_nothing_is_written(dest: Destination) -> None:
    table = spec()
    old = grid(range(2), range(2))
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")
    loose = pa.schema([pa.field(f.name, f.type) for f in table.schema])
    bad = pa.RecordBatch.from_pylist([row(5, 5, campaign_id=None)], schema=loose)
    with pytest.raises(LoadError, match="campaign_id"):
        dest.write_step(
            table,
            [*batches(table, grid(range(3, 4), range(2))), bad],
            mode=UPSERT,
            scope=SCOPE,
            step_id="b",
        )
    assert _rows(dest, table) == expected_rows(old, table.column_names)
    assert dest.completed_steps(table.name, SCOPE) == {"a"}


def test_schema_evolution_adds_columns_and_drops_none(dest: Destination) -> None:
    table = spec()
    first = grid(range(2), range(2), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope=SCOPE, step_id="a")
    clicks = ColumnSpec(name="clickthrough_1", arrow_type=pa.int64())
    evolved = spec(extra=[clicks], drop=["ctr"])
    second = [{**r, "clickthrough_1": 7} for r in grid(range(2, 4), range(2), spend=2)]
    dest.write_step(evolved, batches(evolved, second), mode=UPSERT, scope=SCOPE, step_id="b")
    got = dest.read_table(table.name)
    assert set(got.column_names) == set(table.column_names) | {"clickthrough_1"}
    all_columns = [*table.column_names, "clickthrough_1"]
    expected = [{**r, "clickthrough_1": None} for r in first] + [{**r, "ctr": None} for r in second]
    assert table_rows(got, all_columns) == expected_rows(expected, all_columns)
    # Updating a row of the first step with the evolved spec replaces the row whole: the
    # column the spec no longer has becomes NULL there too.
    update = [{**first[0], "spend_in_micro_dollar": 5, "clickthrough_1": 9}]
    dest.write_step(evolved, batches(evolved, update), mode=UPSERT, scope=SCOPE, step_id="c")
    expected = [{**update[0], "ctr": None}, *expected[1:]]
    assert table_rows(dest.read_table(table.name), all_columns) == expected_rows(
        expected, all_columns
    )


def test_type_conflict_names_the_column(dest: Destination) -> None:
    table = spec()
    dest.write_step(
        table, batches(table, grid(range(1), range(2))), mode=UPSERT, scope=SCOPE, step_id="a"
    )
    changed = TableSpec(
        name=table.name,
        columns=tuple(
            ColumnSpec(name=c.name, arrow_type=pa.string()) if c.name == "impression_1" else c
            for c in table.columns
        ),
        key=table.key,
    )
    rows = [{**r, "impression_1": "many"} for r in grid(range(1, 2), range(2))]
    with pytest.raises(LoadError, match="impression_1"):
        dest.write_step(changed, batches(changed, rows), mode=UPSERT, scope=SCOPE, step_id="b")
    assert dest.completed_steps(table.name, SCOPE) == {"a"}


def test_clear_steps_forgets_checkpoints_of_one_scope(dest: Destination) -> None:
    table = spec()
    rows = grid(range(1), range(1))
    for scope, step in (("x", "1"), ("x", "2"), ("y", "1")):
        dest.write_step(table, batches(table, rows), mode=UPSERT, scope=scope, step_id=step)
    dest.clear_steps(table.name, "x")
    assert dest.completed_steps(table.name, "x") == set()
    assert dest.completed_steps(table.name, "y") == {"1"}
    assert _rows(dest, table) == expected_rows(rows, table.column_names)


def test_empty_step_creates_table_and_checkpoint(dest: Destination) -> None:
    table = spec()
    assert dest.write_step(table, [], mode=UPSERT, scope=SCOPE, step_id="empty") == 0
    assert dest.completed_steps(table.name, SCOPE) == {"empty"}
    got = dest.read_table(table.name)
    assert got.num_rows == 0
    assert set(got.column_names) == set(table.column_names)


def test_entity_table_without_date(dest: Destination) -> None:
    columns = (
        ColumnSpec(name="id", arrow_type=pa.string(), nullable=False),
        ColumnSpec(name="name", arrow_type=pa.string()),
        ColumnSpec(name="daily_spend_cap", arrow_type=pa.int64()),
    )
    table = TableSpec(name="campaigns", columns=columns, key=("id",))
    first = [{"id": str(i), "name": f"c{i}", "daily_spend_cap": i * 1000} for i in range(5)]
    second = [{"id": str(i), "name": f"renamed {i}", "daily_spend_cap": None} for i in range(3, 7)]
    dest.write_step(table, batches(table, first), mode=UPSERT, scope=SCOPE, step_id="a")
    dest.write_step(table, batches(table, second), mode=UPSERT, scope=SCOPE, step_id="b")
    merged = {r["id"]: r for r in first + second}
    assert table_rows(dest.read_table("campaigns")) == expected_rows(
        list(merged.values()), table.column_names
    )


def test_read_of_a_missing_table_is_a_load_error(dest: Destination) -> None:
    dest.check()
    with pytest.raises(LoadError, match="nope"):
        dest.read_table("nope")


def test_check_passes_on_a_working_destination(dest: Destination) -> None:
    dest.check()
    dest.check()
