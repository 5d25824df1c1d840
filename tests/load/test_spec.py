"""TableSpec validation and how incoming batches are brought to the table's schema."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pydantic import ValidationError

from pinads.errors import LoadError
from pinads.load.conform import SEQ_COLUMN, collect_step, conform_batches, last_per_key
from pinads.load.types import arrow_from_postgres, duckdb_type, postgres_type
from pinads.values import ColumnSpec, TableSpec, WriteMode

COLS = (
    ColumnSpec(name="date", arrow_type=pa.date32(), nullable=False),
    ColumnSpec(name="campaign_id", arrow_type=pa.string(), nullable=False),
    ColumnSpec(name="spend_in_micro_dollar", arrow_type=pa.int64()),
)


def _spec(**over: object) -> TableSpec:
    values: dict[str, object] = {"name": "t", "columns": COLS, "key": ("campaign_id", "date")}
    values.update(over)
    return TableSpec(**values)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"name": "campaign-daily"}, "letters, digits and _"),
        ({"name": "_pinads_checkpoints"}, "reserved by pinads"),
        ({"name": "x__pinads_shadow"}, "reserved by pinads"),
        ({"name": "a" * 60}, "at most 48 characters"),
        ({"key": ("ad_id",)}, "key columns \\['ad_id'\\]"),
        ({"columns": (*COLS, ColumnSpec(name="DATE", arrow_type=pa.string()))}, "repeats columns"),
        ({"columns": ()}, "at least one column"),
    ],
)
def test_invalid_specs_are_refused(over: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _spec(**over)


def test_bad_column_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="column name"):
        ColumnSpec(name="spend in $", arrow_type=pa.int64())


def test_write_mode_values() -> None:
    assert [m.value for m in WriteMode] == ["upsert", "append", "replace", "insert_ignore"]
    assert WriteMode("insert_ignore").uses_key
    assert not WriteMode.APPEND.uses_key


def test_batches_are_reordered_cast_and_completed() -> None:
    table = _spec()
    batch = pa.RecordBatch.from_pydict(
        {"spend_in_micro_dollar": pa.array([1, 2], pa.int32()), "campaign_id": ["a", "b"]}
    )
    with pytest.raises(LoadError, match="key column 'date'"):
        list(conform_batches(table, [batch], require_key=True))
    (out,) = conform_batches(table, [batch], require_key=False)
    assert out.schema == table.schema
    assert out.column("date").null_count == 2
    assert out.column("spend_in_micro_dollar").to_pylist() == [1, 2]


def test_unknown_column_is_refused() -> None:
    batch = pa.RecordBatch.from_pydict({"campaign_id": ["a"], "surprise": [1]})
    with pytest.raises(LoadError, match=r"\['surprise'\].*add them to the TableSpec"):
        list(conform_batches(_spec(), [batch], require_key=False))


def test_lossy_cast_is_refused_with_the_column_name() -> None:
    batch = pa.RecordBatch.from_pydict({"spend_in_micro_dollar": pa.array([1.5])})
    with pytest.raises(LoadError, match="column 'spend_in_micro_dollar'"):
        list(conform_batches(_spec(), [batch], require_key=False))


def test_last_row_per_key_wins_and_order_is_kept() -> None:
    table = TableSpec(
        name="t",
        columns=(
            ColumnSpec(name="k", arrow_type=pa.string()),
            ColumnSpec(name="v", arrow_type=pa.int64()),
        ),
        key=("k",),
    )
    batches = [
        pa.RecordBatch.from_pydict({"k": ["a", "b", "a"], "v": [1, 2, 3]}),
        pa.RecordBatch.from_pydict({"k": ["c", "b"], "v": [4, 5]}),
    ]
    rows = collect_step(table, batches, require_key=True)
    assert rows.column(SEQ_COLUMN).to_pylist() == [0, 1, 2, 3, 4]
    kept = last_per_key(rows, table.key)
    assert list(zip(kept["k"].to_pylist(), kept["v"].to_pylist(), strict=True)) == [
        ("a", 3),
        ("c", 4),
        ("b", 5),
    ]


@pytest.mark.parametrize(
    ("arrow_type", "duck", "pg"),
    [
        (pa.int64(), "BIGINT", "bigint"),
        (pa.float64(), "DOUBLE", "double precision"),
        (pa.string(), "VARCHAR", "text"),
        (pa.date32(), "DATE", "date"),
        (pa.timestamp("us", tz="UTC"), "TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
        (pa.bool_(), "BOOLEAN", "boolean"),
        (pa.decimal128(18, 6), "DECIMAL(18,6)", "numeric(18,6)"),
    ],
)
def test_sql_types_round_trip(arrow_type: pa.DataType, duck: str, pg: str) -> None:
    assert duckdb_type(arrow_type) == duck
    assert postgres_type(arrow_type) == pg
    assert arrow_from_postgres(pg) == arrow_type


def test_unsupported_type_names_the_column() -> None:
    with pytest.raises(LoadError, match="column 'tags'"):
        duckdb_type(pa.list_(pa.string()), column="tags")
