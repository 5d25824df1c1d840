"""Arrow types to SQL column types (DuckDB and PostgreSQL spellings) and back."""

from __future__ import annotations

import pyarrow as pa

from pinads.errors import LoadError

__all__ = ["arrow_from_postgres", "duckdb_type", "postgres_type"]


def duckdb_type(arrow_type: pa.DataType, *, column: str = "?") -> str:
    """DuckDB column type for an Arrow type, spelled as `information_schema` reports it."""
    return _sql_type(arrow_type, column=column, dialect=_DUCKDB)


def postgres_type(arrow_type: pa.DataType, *, column: str = "?") -> str:
    """PostgreSQL column type for an Arrow type, spelled as `format_type()` reports it."""
    return _sql_type(arrow_type, column=column, dialect=_POSTGRES)


# Per dialect: (int8, int16, int32, int64, float32, float64, bool, text, date, timestamptz,
# timestamp, decimal template)
_DUCKDB = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "FLOAT",
    "DOUBLE",
    "BOOLEAN",
    "VARCHAR",
    "DATE",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP",
    "DECIMAL({p},{s})",
)
_POSTGRES = (
    "smallint",
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "boolean",
    "text",
    "date",
    "timestamp with time zone",
    "timestamp without time zone",
    "numeric({p},{s})",
)


def _sql_type(arrow_type: pa.DataType, *, column: str, dialect: tuple[str, ...]) -> str:
    checks = (
        pa.types.is_int8,
        pa.types.is_int16,
        pa.types.is_int32,
        pa.types.is_int64,
        pa.types.is_float32,
        pa.types.is_float64,
        pa.types.is_boolean,
        _is_text,
        pa.types.is_date32,
    )
    for check, sql in zip(checks, dialect, strict=False):
        if check(arrow_type):
            return sql
    if pa.types.is_timestamp(arrow_type):
        return dialect[9] if arrow_type.tz is not None else dialect[10]
    if pa.types.is_decimal(arrow_type) and arrow_type.precision <= 38:
        return dialect[11].format(p=arrow_type.precision, s=arrow_type.scale)
    raise LoadError(
        f"column {column!r} has Arrow type {arrow_type}, which pinads destinations do not "
        "store; use an integer, float, decimal, boolean, string, date or timestamp type"
    )


def _is_text(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    )


_FROM_POSTGRES: dict[str, pa.DataType] = {
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "text": pa.string(),
    "character varying": pa.string(),
    "date": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us"),
}


def arrow_from_postgres(sql_type: str) -> pa.DataType:
    """Arrow type for a `format_type()` spelling (the inverse of `postgres_type`)."""
    if sql_type.startswith("numeric(") and sql_type.endswith(")"):
        precision, scale = sql_type[len("numeric(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if sql_type.startswith(("character varying", "character(")):
        return pa.string()
    try:
        return _FROM_POSTGRES[sql_type]
    except KeyError:
        raise LoadError(
            f"PostgreSQL column type {sql_type!r} is not one pinads reads; "
            "the table was probably changed by hand"
        ) from None
