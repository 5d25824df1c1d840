"""PostgreSQL binary COPY: every supported type and edge value survives, CSV takes the rest."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from pinads.load import PostgresDestination, open_destination
from pinads.load.postgres_copy import binary_layout, encode_binary
from pinads.settings import load_settings
from pinads.values import ColumnSpec, TableSpec, WriteMode

PG = "postgresql://postgres@127.0.0.1:5432/test"
UTC = dt.UTC


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


pytestmark = pytest.mark.skipif(not _server_up(), reason=f"PostgreSQL is not running at {PG}")


@pytest.fixture
def dest() -> Iterator[PostgresDestination]:
    schema = f"pinads_t_{uuid.uuid4().hex[:12]}"
    opened = open_destination(f"{PG}?schema={schema}", settings=load_settings())
    assert isinstance(opened, PostgresDestination)
    yield opened
    opened.close()
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# Values chosen for the encodings' edges: signs and extremes of each width, IEEE specials, the
# days and instants around both epochs (1970 for Arrow, 2000 for PostgreSQL), text that CSV
# would have to quote, and NULL in every nullable column.
EDGE_COLUMNS: dict[str, tuple[pa.DataType, list[Any]]] = {
    "i8": (pa.int8(), [-128, 127, 0, None, -1]),
    "i16": (pa.int16(), [-32768, 32767, 0, -1, None]),
    "i32": (pa.int32(), [-(2**31), 2**31 - 1, None, 0, -1]),
    "i64": (pa.int64(), [-(2**63), 2**63 - 1, 9_007_199_254_740_993, None, -1]),
    "f32": (pa.float32(), [1.5, -0.0, float("inf"), None, float("nan")]),
    "f64": (pa.float64(), [0.1, -1e308, float("-inf"), float("nan"), None]),
    "flag": (pa.bool_(), [True, False, None, True, False]),
    "txt": (pa.string(), ["", 'a "quoted",\ttabbed\nline\\', None, "Zürich – 東京 🙂", "x" * 5000]),
    "big_txt": (pa.large_string(), ["large", None, "", "é", "z"]),
    "day": (
        pa.date32(),
        [
            dt.date(1999, 12, 31),
            dt.date(2000, 1, 1),
            dt.date(1969, 12, 31),
            None,
            dt.date(9999, 12, 31),
        ],
    ),
    "at_us": (
        pa.timestamp("us", tz="UTC"),
        [
            dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            dt.datetime(2000, 1, 1, tzinfo=UTC),
            dt.datetime(1960, 6, 1, 12, 0, 0, 1, tzinfo=UTC),
            None,
            dt.datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC),
        ],
    ),
    "at_s": (
        pa.timestamp("s", tz="UTC"),
        [
            dt.datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC),
            None,
            dt.datetime(1970, 1, 1, tzinfo=UTC),
            dt.datetime(1901, 1, 1, tzinfo=UTC),
            dt.datetime(2100, 1, 1, tzinfo=UTC),
        ],
    ),
    "at_ms": (
        pa.timestamp("ms"),
        [
            dt.datetime(2026, 1, 1, 0, 0, 0, 5000),
            dt.datetime(1999, 1, 1),
            None,
            dt.datetime(2000, 1, 1),
            dt.datetime(1970, 1, 1),
        ],
    ),
}


def _spec(columns: dict[str, tuple[pa.DataType, list[Any]]], key: tuple[str, ...]) -> TableSpec:
    cols = tuple(
        ColumnSpec(name=n, arrow_type=t, nullable=n not in key) for n, (t, _) in columns.items()
    )
    return TableSpec(
        name="edges",
        columns=(ColumnSpec(name="k", arrow_type=pa.int64(), nullable=False), *cols),
        key=("k",),
    )


def _rows(columns: dict[str, tuple[pa.DataType, list[Any]]]) -> list[dict[str, Any]]:
    count = len(next(iter(columns.values()))[1])
    return [{"k": i, **{n: v[i] for n, (_, v) in columns.items()}} for i in range(count)]


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, float) and want == 0.0 and got == 0.0:
        return math.copysign(1, got) == math.copysign(1, want)
    return bool(got == want)


def _check_round_trip(
    dest: PostgresDestination, spec: TableSpec, rows: list[dict[str, Any]]
) -> None:
    back = {r["k"]: r for r in dest.read_table(spec.name).to_pylist()}
    assert sorted(back) == [r["k"] for r in rows]
    for want in rows:
        got = back[want["k"]]
        for name, value in want.items():
            assert _same(got[name], value), (name, got[name], value)


def test_every_supported_type_round_trips_in_binary(dest: PostgresDestination) -> None:
    spec = _spec(EDGE_COLUMNS, ("k",))
    rows = _rows(EDGE_COLUMNS)
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    layout = binary_layout(table)
    assert layout is not None  # binary COPY, not the CSV fallback
    assert set(layout.block) == {"k"}  # every other column has a NULL, a 1-2 byte value or text
    dest.write_step(spec, table.to_batches(), mode=WriteMode.UPSERT, scope="s", step_id="1")
    _check_round_trip(dest, spec, rows)
    # Again (every key exists): the keys are deleted and the rows copied in again.
    dest.write_step(spec, table.to_batches(), mode=WriteMode.UPSERT, scope="s", step_id="2")
    _check_round_trip(dest, spec, rows)


def test_many_rows_in_sliced_batches_cross_copy_chunks(dest: PostgresDestination) -> None:
    """More rows than one encoded chunk, batches that are slices (offset buffers), no NULLs."""
    n = 40_000
    spec = TableSpec(
        name="wide",
        columns=(
            ColumnSpec(name="day", arrow_type=pa.date32(), nullable=False),
            ColumnSpec(name="id", arrow_type=pa.string(), nullable=False),
            ColumnSpec(name="n", arrow_type=pa.int64()),
            ColumnSpec(name="x", arrow_type=pa.float64()),
            ColumnSpec(name="r", arrow_type=pa.float32()),
            ColumnSpec(name="i", arrow_type=pa.int32()),
            ColumnSpec(name="at", arrow_type=pa.timestamp("s", tz="UTC")),
        ),
        key=("id", "day"),
    )
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "day": dt.date(2026, 1, 1) + dt.timedelta(days=i % 90),
            "id": f"ad-{i // 90}",
            "n": i * 1_000_003 - 7,
            "x": i / 7,
            "r": float(i % 1000) / 4,
            "i": -i,
            "at": start + dt.timedelta(seconds=i),
        }
        for i in range(n)
    ]
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    layout = binary_layout(table)
    assert layout is not None and layout.fields == ("id",)
    slices = [table.slice(s, 9_999).combine_chunks().to_batches()[0] for s in range(0, n, 9_999)]
    dest.write_step(spec, slices, mode=WriteMode.UPSERT, scope="s", step_id="1")
    back = dest.read_table("wide").sort_by([("id", "ascending"), ("day", "ascending")])
    want = table.sort_by([("id", "ascending"), ("day", "ascending")])
    assert back.equals(want.cast(back.schema))


def test_nulls_in_a_slice_with_an_offset(dest: PostgresDestination) -> None:
    spec = TableSpec(
        name="sliced",
        columns=(
            ColumnSpec(name="k", arrow_type=pa.int64(), nullable=False),
            ColumnSpec(name="v", arrow_type=pa.int64()),
            ColumnSpec(name="t", arrow_type=pa.string()),
        ),
        key=("k",),
    )
    rows = [
        {"k": i, "v": None if i % 3 == 0 else i, "t": None if i % 5 == 0 else str(i)}
        for i in range(50)
    ]
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    batch = table.to_batches()[0].slice(11, 30)  # validity bitmaps start mid-byte
    dest.write_step(spec, [batch], mode=WriteMode.UPSERT, scope="s", step_id="1")
    back = sorted(dest.read_table("sliced").to_pylist(), key=lambda r: r["k"])
    assert back == rows[11:41]


def test_decimal_and_nanoseconds_go_as_csv(dest: PostgresDestination) -> None:
    spec = TableSpec(
        name="csvish",
        columns=(
            ColumnSpec(name="k", arrow_type=pa.string(), nullable=False),
            ColumnSpec(name="amount", arrow_type=pa.decimal128(18, 6)),
            ColumnSpec(name="at", arrow_type=pa.timestamp("ns", tz="UTC")),
        ),
        key=("k",),
    )
    rows = [
        {
            "k": "a",
            "amount": decimal.Decimal("-123456789012.123456"),
            "at": dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
        },
        {"k": "b", "amount": None, "at": None},
    ]
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    assert binary_layout(table) is None
    assert binary_layout(table.drop_columns(["amount"])) is None
    assert binary_layout(table.drop_columns(["at"])) is None
    dest.write_step(spec, table.to_batches(), mode=WriteMode.UPSERT, scope="s", step_id="1")
    back = sorted(dest.read_table("csvish").to_pylist(), key=lambda r: r["k"])
    assert back[0]["amount"] == decimal.Decimal("-123456789012.123456")
    assert back[0]["at"] == dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)
    assert back[1] == {"k": "b", "amount": None, "at": None}


def test_upsert_over_existing_keys_with_repeats_in_the_step(dest: PostgresDestination) -> None:
    """Existing keys take the delete-then-COPY path; repeats within the step keep the last."""
    spec = TableSpec(
        name="ups",
        columns=(
            ColumnSpec(name="k", arrow_type=pa.string(), nullable=False),
            ColumnSpec(name="v", arrow_type=pa.int64()),
        ),
        key=("k",),
    )

    def step(step_id: str, rows: list[tuple[str, int]]) -> int:
        batch = pa.RecordBatch.from_pylist([{"k": k, "v": v} for k, v in rows], schema=spec.schema)
        return dest.write_step(spec, [batch], mode=WriteMode.UPSERT, scope="s", step_id=step_id)

    assert step("1", [(f"k{i}", i) for i in range(100)]) == 100
    assert step("2", [("k1", -1), ("new", 5), ("k1", -2), ("k99", -99)]) == 3
    back = {r["k"]: r["v"] for r in dest.read_table("ups").to_pylist()}
    assert len(back) == 101
    assert (back["k1"], back["k99"], back["new"], back["k2"]) == (-2, -99, 5, 2)


def test_long_text_is_sent_in_smaller_chunks(dest: PostgresDestination) -> None:
    """Rows of 1 MiB each: chunks hold fewer rows (Arrow's 32-bit offsets), all arrive intact."""
    spec = TableSpec(
        name="long_text",
        columns=(
            ColumnSpec(name="k", arrow_type=pa.int64(), nullable=False),
            ColumnSpec(name="body", arrow_type=pa.string()),
        ),
        key=("k",),
    )
    rows = [{"k": i, "body": chr(65 + i % 26) * (1 << 20)} for i in range(70)]
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    layout = binary_layout(table)
    assert layout is not None
    assert len(list(encode_binary(table, layout))) >= 2
    dest.write_step(spec, table.to_batches(), mode=WriteMode.UPSERT, scope="s", step_id="1")
    schema = dest.target.schema
    with psycopg.connect(PG) as conn:
        got = conn.execute(
            "SELECT count(*), sum(length(body)), count(DISTINCT left(body, 1)) "
            f'FROM "{schema}".long_text'
        ).fetchone()
    assert got == (70, 70 << 20, 26)
