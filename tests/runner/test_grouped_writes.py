"""DuckDB's multi-step transactions: every step stays atomic with its checkpoint, a failing
producer keeps the steps already written, a refused write loses only its open transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from pinads.errors import ExtractError, LoadError
from pinads.load.duckdb import (
    PARALLEL_STEP_ROWS,
    ROW_GROUP_ROWS,
    DuckDBDestination,
    memory_limit_for,
)
from pinads.values import ColumnSpec, TableSpec, WriteMode

TABLE = TableSpec(
    name="grouped",
    columns=(
        ColumnSpec(name="date", arrow_type=pa.date32(), nullable=False),
        ColumnSpec(name="ad_id", arrow_type=pa.string(), nullable=False),
        ColumnSpec(name="spend", arrow_type=pa.int64()),
    ),
    key=("date", "ad_id"),
)
SCOPE = "run:1"


def _step(first: int, count: int, spend: int = 1) -> list[pa.RecordBatch]:
    ids = [f"{i:06d}" for i in range(first, first + count)]
    return [
        pa.RecordBatch.from_pydict(
            {
                "date": pa.array([19_000] * count, pa.int32()).cast(pa.date32()),
                "ad_id": ids,
                "spend": [spend] * count,
            },
            schema=TABLE.schema,
        )
    ]


def _dest(tmp_path: Path) -> DuckDBDestination:
    return DuckDBDestination(tmp_path / "g.duckdb", url="duckdb:///g")


def test_steps_share_a_transaction_until_a_bound(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    commits: list[list[tuple[str, int]]] = []
    steps = [(f"s{i}", _step(i * 10, 10), True) for i in range(5)]
    steps.insert(3, ("list", _step(100, 2), False))  # not groupable: commits what came before
    dest.write_steps(
        TABLE, steps, mode=WriteMode.UPSERT, scope=SCOPE, on_commit=commits.append, group_rows=25
    )
    assert commits == [
        [("s0", 10), ("s1", 10), ("s2", 10)],  # 30 rows >= 25
        [("list", 2)],
        [("s3", 10), ("s4", 10)],  # the rest, at the end
    ]
    assert dest.completed_steps(TABLE.name, SCOPE) == {"s0", "s1", "s2", "list", "s3", "s4"}
    assert dest.read_table(TABLE.name).num_rows == 52
    dest.close()


def test_a_failing_producer_keeps_the_steps_already_written(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    commits: list[list[tuple[str, int]]] = []

    def steps() -> Iterator[tuple[str, list[pa.RecordBatch], bool]]:
        yield "s0", _step(0, 10), True
        yield "s1", _step(10, 10), True
        raise ExtractError("Pinterest stopped answering")

    with pytest.raises(ExtractError, match="stopped answering"):
        dest.write_steps(
            TABLE, steps(), mode=WriteMode.UPSERT, scope=SCOPE, on_commit=commits.append
        )
    assert commits == [[("s0", 10), ("s1", 10)]]
    assert dest.completed_steps(TABLE.name, SCOPE) == {"s0", "s1"}
    assert dest.read_table(TABLE.name).num_rows == 20
    dest.close()


def test_a_refused_write_rolls_back_its_transaction_only(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    # A table the user made stricter: DuckDB refuses the second step's rows. (Made here as an
    # earlier pinads version's table, whose checkpoint shows pinads wrote it.)
    with dest._session() as conn:
        conn.execute(
            "CREATE TABLE grouped (date DATE, ad_id VARCHAR, spend BIGINT CHECK (spend < 100))"
        )
        conn.execute("INSERT INTO _pinads_checkpoints VALUES ('grouped', 'o', 'o', 0, now())")
    dest.write_step(TABLE, _step(0, 5), mode=WriteMode.UPSERT, scope=SCOPE, step_id="before")
    commits: list[list[tuple[str, int]]] = []
    steps = [("s0", _step(10, 5), True), ("s1", _step(20, 5, spend=500), True)]
    with pytest.raises(LoadError, match=r"nothing of this step \(and the 1 step\(s\) before"):
        dest.write_steps(TABLE, steps, mode=WriteMode.UPSERT, scope=SCOPE, on_commit=commits.append)
    assert commits == []
    assert dest.completed_steps(TABLE.name, SCOPE) == {"before"}
    assert dest.read_table(TABLE.name).num_rows == 5
    dest.close()


def test_upsert_without_primary_key_overwrites_only_the_steps_keys(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    upsert = WriteMode.UPSERT
    dest.write_step(TABLE, _step(0, 30, spend=1), mode=upsert, scope=SCOPE, step_id="a")
    dest.write_step(TABLE, _step(10, 10, spend=2), mode=upsert, scope=SCOPE, step_id="b")
    with dest._session() as conn:
        constraints = conn.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'grouped' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    assert constraints == [(0,)]  # no ART index growing with the table
    spend = {r["ad_id"]: r["spend"] for r in dest.read_table(TABLE.name).to_pylist()}
    assert len(spend) == 30
    assert [spend[f"{i:06d}"] for i in (0, 9, 10, 19, 20, 29)] == [1, 1, 2, 2, 1, 1]
    dest.close()


def test_a_wide_table_commits_within_its_buffer_pool_in_small_row_groups(tmp_path: Path) -> None:
    # 146 int64 columns (every ad metric) and 3 row groups in one transaction: the write pins
    # one uncompressed row group at a time, which the cap for this width must hold.
    wide = TableSpec(
        name="wide",
        columns=tuple(ColumnSpec(name=f"m{i}", arrow_type=pa.int64()) for i in range(146)),
        key=(),
    )
    rows = 3 * ROW_GROUP_ROWS
    step = pa.table({f"m{i}": pa.array(range(i, i + rows), pa.int64()) for i in range(146)})
    dest = _dest(tmp_path)
    commits: list[list[tuple[str, int]]] = []
    with dest._session() as conn:  # kept open across the write, to read its settings after
        dest.write_steps(
            wide,
            [("all", step.to_batches(max_chunksize=20_000), True)],
            mode=WriteMode.APPEND,
            scope=SCOPE,
            on_commit=commits.append,
        )
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()
        groups = conn.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('wide')"
        ).fetchone()
    assert commits == [[("all", rows)]]
    # the write ran under the cap for its width, well below the 192 MB that 146 columns needed
    # with DuckDB's default row groups
    assert limit == (f"{memory_limit_for(wide) / 2**20:.1f} MiB",)
    assert memory_limit_for(wide) < 192 * 2**20
    assert groups == (3,)  # ROW_GROUP_ROWS rows each
    dest.close()
    reopened = DuckDBDestination(tmp_path / "g.duckdb", url="duckdb:///g")
    assert reopened.read_table("wide").sort_by("m0").equals(step)
    reopened.close()


def test_a_large_step_is_written_by_every_core_and_small_ones_by_one(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    with dest._session() as conn:  # kept open across the writes, to read their settings

        def threads() -> object:
            row = conn.execute("SELECT current_setting('threads')").fetchone()
            return None if row is None else row[0]

        dest.write_step(TABLE, _step(0, 1_000), mode=WriteMode.UPSERT, scope=SCOPE, step_id="small")
        assert threads() == 1
        large = PARALLEL_STEP_ROWS
        dest.write_step(TABLE, _step(0, large), mode=WriteMode.UPSERT, scope=SCOPE, step_id="large")
        assert threads() == len(os.sched_getaffinity(0))
    assert dest.read_table(TABLE.name).num_rows == large
    dest.close()
