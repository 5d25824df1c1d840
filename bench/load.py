"""Load benchmark: rows/s into each destination vs the engine's own bulk path (the ceiling).

    .venv/bin/python bench/load.py [--rows 1000000] [--steps 10] [--only duckdb,postgres,...]

The data is a typical analytics table: date, ad_account_id, campaign_id, ad_id, 20 int64 and
10 float64 metrics, and the `_pinads_` metadata columns, delivered as 64k-row record batches.
Each destination gets the rows as `--steps` plan steps (one transaction + checkpoint each):
first a load into an empty table (every key new), then the same rows again (every key updated,
what the attribution-window rerun does). Ceilings, the engine's own bulk path for the same rows:
DuckDB `CREATE TABLE AS SELECT * FROM arrow_table` (and INSERT into a table with the same
primary key); PostgreSQL `\\copy` of a CSV file by psql (into a plain and a keyed table);
Parquet/CSV `pyarrow.dataset.write_dataset` with the same date partitions; JSONL has no engine
path, so its reference is our own writer on the whole table as one file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as padataset

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

import duckdb

from pinads.load import ColumnSpec, TableSpec, WriteMode, open_destination
from pinads.load.files_io import FileFormat, write_data_file
from pinads.load.types import duckdb_type, postgres_type
from pinads.settings import AppSettings

INT_METRICS = 20
FLOAT_METRICS = 10
DAYS = 90
BATCH_ROWS = 65_536
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def table_spec() -> TableSpec:
    cols = [
        ColumnSpec(name="date", arrow_type=pa.date32(), nullable=False),
        ColumnSpec(name="ad_account_id", arrow_type=pa.string(), nullable=False),
        ColumnSpec(name="campaign_id", arrow_type=pa.string(), nullable=False),
        ColumnSpec(name="ad_id", arrow_type=pa.string(), nullable=False),
    ]
    cols += [
        ColumnSpec(name=f"metric_int_{i:02d}", arrow_type=pa.int64()) for i in range(INT_METRICS)
    ]
    cols += [
        ColumnSpec(name=f"metric_float_{i:02d}", arrow_type=pa.float64())
        for i in range(FLOAT_METRICS)
    ]
    cols += [
        ColumnSpec(name="_pinads_extracted_at", arrow_type=pa.timestamp("us", tz="UTC")),
        ColumnSpec(name="_pinads_source", arrow_type=pa.string()),
        ColumnSpec(name="_pinads_run_id", arrow_type=pa.string()),
        ColumnSpec(name="account_currency", arrow_type=pa.string()),
    ]
    return TableSpec(name="ad_daily", columns=tuple(cols), key=("ad_account_id", "ad_id", "date"))


def make_rows(n: int, spec: TableSpec) -> pa.Table:
    """n rows: ads x 90 days, metrics from Arrow's RNG (fast, no Python loop per row)."""
    idx = pa.array(range(n), pa.int64())
    day = pc.cast(pc.add(pc.remainder(idx, DAYS), 20_454), pa.int32()).cast(
        pa.date32()
    )  # 2026-01-01+
    ad = pc.divide(idx, DAYS)
    arrays: dict[str, pa.Array] = {
        "date": day,
        "ad_account_id": pc.cast(pc.add(pc.divide(ad, 50_000), 549_755_885_175), pa.string()),
        "campaign_id": pc.cast(pc.add(pc.divide(ad, 100), 626_535_600_000), pa.string()),
        "ad_id": pc.cast(pc.add(ad, 687_194_767_360), pa.string()),
    }
    for i in range(INT_METRICS):
        arrays[f"metric_int_{i:02d}"] = pc.cast(
            pc.floor(pc.multiply(pc.random(n), 1e12)), pa.int64()
        )
    for i in range(FLOAT_METRICS):
        arrays[f"metric_float_{i:02d}"] = pc.multiply(pc.random(n), 100.0)
    extracted = dt.datetime(2026, 4, 1, 6, 0, tzinfo=dt.UTC)
    arrays["_pinads_extracted_at"] = pa.array([extracted] * n, pa.timestamp("us", tz="UTC"))
    arrays["_pinads_source"] = pa.array(["ad_daily"] * n)
    arrays["_pinads_run_id"] = pa.array(["run-0001"] * n)
    arrays["account_currency"] = pa.array(["USD"] * n)
    return pa.Table.from_pydict(arrays, schema=spec.schema)


def step_batches(rows: pa.Table, steps: int) -> Iterator[list[pa.RecordBatch]]:
    size = -(-rows.num_rows // steps)
    for start in range(0, rows.num_rows, size):
        yield rows.slice(start, size).to_batches(max_chunksize=BATCH_ROWS)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def load(
    url: str, rows: pa.Table, spec: TableSpec, steps: int, settings: AppSettings
) -> tuple[float, float]:
    dest = open_destination(url, settings=settings)
    dest.check()

    def run(tag: str) -> None:
        total = 0
        for i, batches in enumerate(step_batches(rows, steps)):
            total += dest.write_step(
                spec, batches, mode=WriteMode.UPSERT, scope=tag, step_id=f"{i}"
            )
        assert total == rows.num_rows, (total, rows.num_rows)

    first = timed(lambda: run("first"))
    again = timed(lambda: run("again"))
    assert (
        dest.read_table(spec.name).num_rows == rows.num_rows
        if not url.startswith("postgres")
        else True
    )
    dest.close()
    return first, again


def duckdb_ceilings(rows: pa.Table, spec: TableSpec, workdir: Path) -> dict[str, float]:
    """CTAS from the Arrow table; and a plain INSERT into a table with the same primary key."""
    out = {}
    for label, keyed in (("CTAS", False), ("INSERT into keyed table", True)):
        path = workdir / f"ceiling-{keyed}.duckdb"
        con = duckdb.connect(str(path))
        con.register("arrow_rows", rows)
        if keyed:
            cols = ", ".join(f'"{c.name}" {duckdb_type(c.arrow_type)}' for c in spec.columns)
            con.execute(f"CREATE TABLE t ({cols}, PRIMARY KEY ({', '.join(spec.key)}))")
            sql = "INSERT INTO t SELECT * FROM arrow_rows"
        else:
            sql = "CREATE TABLE t AS SELECT * FROM arrow_rows"
        out[label] = timed(lambda sql=sql, con=con: con.execute(sql).fetchall())
        con.close()
        path.unlink()
    return out


def postgres_ceilings(
    rows: pa.Table, spec: TableSpec, workdir: Path, schema: str
) -> dict[str, float]:
    """psql's \\copy of a CSV file of the same rows, into a plain and into a keyed table."""
    csv_path = workdir / "rows.csv"
    pacsv.write_csv(rows, csv_path)
    cols = ", ".join(f'"{c.name}" {postgres_type(c.arrow_type)}' for c in spec.columns)
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".plain ({cols})')
        conn.execute(f'CREATE TABLE "{schema}".keyed ({cols}, PRIMARY KEY ({", ".join(spec.key)}))')
    out = {}
    for label, table in (
        ("psql \\copy CSV", "plain"),
        ("psql \\copy CSV into keyed table", "keyed"),
    ):
        command = f"\\copy \"{schema}\".{table} FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"
        run = ["psql", PG_DSN, "-q", "-c", command]
        out[label] = timed(lambda run=run: subprocess.run(run, check=True))
    csv_path.unlink()
    return out


def files_ceilings(rows: pa.Table, fmt: FileFormat, workdir: Path) -> dict[str, float]:
    """pyarrow.dataset writing the same date partitions (JSONL: our writer, one file)."""
    target = workdir / "ceiling"
    if fmt is FileFormat.JSONL:
        out = {"one JSONL file": timed(lambda: write_data_file(workdir / "c.jsonl", rows, fmt))}
        (workdir / "c.jsonl").unlink()
        return out
    text = [f.name for f in rows.schema if pa.types.is_string(f.type)]
    options = (
        padataset.ParquetFileFormat().make_write_options(compression="snappy", use_dictionary=text)
        if fmt is FileFormat.PARQUET
        else padataset.CsvFileFormat().make_write_options()
    )

    def write() -> None:
        padataset.write_dataset(
            rows,
            target,
            format=fmt.value,
            partitioning=["date"],
            partitioning_flavor="hive",
            file_options=options,
            existing_data_behavior="overwrite_or_ignore",
        )

    out = {"pyarrow write_dataset (date partitions)": timed(write)}
    shutil.rmtree(target)
    return out


def ceilings(
    kind: str, rows: pa.Table, spec: TableSpec, workdir: Path, schema: str
) -> dict[str, float]:
    if kind == "duckdb":
        return duckdb_ceilings(rows, spec, workdir)
    if kind == "postgres":
        return postgres_ceilings(rows, spec, workdir, schema)
    return files_ceilings(rows, FileFormat(kind), workdir)


def url_for(kind: str, workdir: Path, schema: str) -> str:
    if kind == "duckdb":
        return f"duckdb://{workdir / 'bench.duckdb'}"
    if kind == "postgres":
        return f"{PG_DSN}?schema={schema}"
    return f"file://{workdir / 'files'}?format={kind}"


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def bench_one(
    kind: str, rows: pa.Table, spec: TableSpec, args: argparse.Namespace, workdir: Path
) -> None:
    """Best of `--repeat` runs, each on a fresh destination."""
    settings = AppSettings(home=workdir / "home")
    first, again, ceiling = float("inf"), float("inf"), dict[str, float]()
    for _ in range(args.repeat):
        schema = f"pinads_bench_{uuid.uuid4().hex[:8]}"
        try:
            f, a = load(url_for(kind, workdir, schema), rows, spec, args.steps, settings)
            first, again = min(first, f), min(again, a)
            for label, seconds in ceilings(kind, rows, spec, workdir, schema).items():
                ceiling[label] = min(ceiling.get(label, float("inf")), seconds)
        finally:
            if kind == "postgres":
                drop_schema(schema)
            shutil.rmtree(workdir / "files", ignore_errors=True)
            (workdir / "bench.duckdb").unlink(missing_ok=True)
    n = rows.num_rows
    print(
        f"{kind:<9} first load {n / first:>9,.0f} rows/s   "
        f"reload (all keys updated) {n / again:>9,.0f} rows/s"
    )
    for label, seconds in ceiling.items():
        print(
            f"{'':<9}   ceiling {n / seconds:>9,.0f} rows/s  {label}: "
            f"first load = {seconds / first:.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=1, help="plan steps the rows come in")
    parser.add_argument("--repeat", type=int, default=1, help="report the best of N runs")
    parser.add_argument("--only", default="duckdb,postgres,parquet,csv,jsonl")
    args = parser.parse_args()
    spec = table_spec()
    rows = make_rows(args.rows, spec)
    per_step = -(-rows.num_rows // args.steps)
    print(
        f"{rows.num_rows:,} rows x {rows.num_columns} columns "
        f"({rows.nbytes / 1e6:.0f} MB as Arrow), "
        f"upsert in {args.steps} step(s) of {per_step:,} rows, best of {args.repeat}"
    )
    with tempfile.TemporaryDirectory(prefix="pinads-bench-") as tmp:
        for kind in args.only.split(","):
            bench_one(kind, rows, spec, args, Path(tmp))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS {peak_mb:.0f} MB (the benchmark holds the whole source table: "
        f"{rows.nbytes / 1e6:.0f} MB); python {sys.version.split()[0]}, "
        f"duckdb {duckdb.__version__}, "
        f"pyarrow {pa.__version__}, psycopg {psycopg.__version__}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
