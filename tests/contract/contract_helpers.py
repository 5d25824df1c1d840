"""Rows, specs and batches shared by the destination contract suite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pinads.load import Destination, open_destination
from pinads.settings import load_settings
from pinads.values import ColumnSpec, TableSpec

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


# Every registered kind of destination, and the files kind in each of its formats (a kind missing
# here fails test_registered_kinds.py).
KIND_OF_TARGET = {
    "duckdb": "duckdb",
    "postgres": "postgresql",
    "parquet": "files",
    "csv": "files",
    "jsonl": "files",
}


def target_url(kind: str, tmp_path: Path, schema: str) -> str:
    if kind == "duckdb":
        return f"duckdb://{tmp_path / 'contract.duckdb'}"
    if kind == "postgres":
        return f"{PG_DSN}?schema={schema}&application_name={schema}"
    return f"file://{tmp_path / 'files'}?format={kind}"


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@dataclass
class Target:
    """A destination URL under test; `open()` gives a fresh Destination on it."""

    kind: str
    url: str
    opened: list[Destination] = field(default_factory=list)

    def open(self) -> Destination:
        dest = open_destination(self.url, settings=load_settings())
        self.opened.append(dest)
        return dest


UTC = dt.UTC
EXTRACTED_AT = dt.datetime(2026, 9, 30, 12, 0, 0, 123456, tzinfo=UTC)

BASE_COLUMNS = (
    ColumnSpec(name="date", arrow_type=pa.date32(), nullable=False),
    ColumnSpec(name="ad_account_id", arrow_type=pa.string(), nullable=False),
    ColumnSpec(name="campaign_id", arrow_type=pa.string(), nullable=False),
    ColumnSpec(name="campaign_name", arrow_type=pa.string()),
    ColumnSpec(name="spend_in_micro_dollar", arrow_type=pa.int64()),
    ColumnSpec(name="impression_1", arrow_type=pa.int64()),
    ColumnSpec(name="ctr", arrow_type=pa.float64()),
    ColumnSpec(name="is_active", arrow_type=pa.bool_()),
    ColumnSpec(name="_pinads_extracted_at", arrow_type=pa.timestamp("us", tz="UTC")),
)
KEY = ("ad_account_id", "campaign_id", "date")


def spec(
    name: str = "campaign_daily", *, extra: Sequence[ColumnSpec] = (), drop: Sequence[str] = ()
) -> TableSpec:
    columns = tuple(c for c in BASE_COLUMNS if c.name not in drop) + tuple(extra)
    return TableSpec(name=name, columns=columns, key=KEY)


def row(
    day: int, campaign: int, *, spend: int = 0, account: str = "549755885175", **over: Any
) -> dict[str, Any]:
    """One analytics row; `spend` distinguishes versions of the same key."""
    values: dict[str, Any] = {
        "date": dt.date(2026, 9, 1) + dt.timedelta(days=day),
        "ad_account_id": account,
        "campaign_id": f"6265356{campaign:05d}",
        "campaign_name": f'Campaign {campaign} – “Herbst”, with "quotes"\nand a newline',
        "spend_in_micro_dollar": 9_007_199_254_740_993 + spend,  # beyond float64's exact range
        "impression_1": 1000 * campaign + day,
        "ctr": 0.1 + campaign / 3,
        "is_active": campaign % 2 == 0,
        "_pinads_extracted_at": EXTRACTED_AT,
    }
    values.update(over)
    return values


def grid(days: range, campaigns: range, *, spend: int = 0) -> list[dict[str, Any]]:
    return [row(d, c, spend=spend) for d in days for c in campaigns]


def batches(
    table: TableSpec, rows: Sequence[dict[str, Any]], *, size: int = 7
) -> Iterator[pa.RecordBatch]:
    """The rows as record batches of `size` rows, typed by the spec (like the runner's)."""
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        yield pa.RecordBatch.from_pylist(
            [{c: r.get(c) for c in table.column_names} for r in chunk], schema=table.schema
        )


def table_rows(table: pa.Table, columns: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """Rows of `table` (selected columns, in that order) sorted, for order-free comparison."""
    names = list(columns or table.column_names)
    values = table.select(names).to_pylist()
    return sorted((tuple(r[n] for n in names) for r in values), key=_sort_key)


def expected_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r.get(n) for n in columns) for r in rows), key=_sort_key)


def _sort_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, "" if v is None else str(v)) for v in values)


def latest_by_key(*versions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an upsert of `versions` in order leaves: the last row per key."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rows in versions:
        for r in rows:
            merged[tuple(r[k] for k in KEY)] = r
    return list(merged.values())
