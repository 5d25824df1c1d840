"""Load benchmark: rows/s into each destination vs the engine's own bulk path (the ceiling).

    .venv/bin/python bench/load.py [--rows 1000000] [--steps 10] [--repeat 5] [--only postgres]

The data is a typical analytics table: date, ad_account_id, campaign_id, ad_id, 20 int64 and
10 float64 metrics, and the `_pinads_` metadata columns, delivered as 64k-row record batches.
Each destination gets the rows as `--steps` plan steps, as the runner hands them over (each with
its checkpoint; DuckDB may group consecutive steps in one transaction, as it does in a run):
first a load into an empty table (every key new), then the same rows again (every key updated,
what the attribution-window rerun does). Ceilings, the engine's own bulk path for the same rows:
DuckDB `CREATE TABLE AS SELECT * FROM arrow_table` and INSERT into a table of the same types
(no key: pinads' DuckDB tables have none); PostgreSQL psql `\\copy` of a file of the same rows
into a table with the same primary key, as CSV and in COPY's binary format (the file written by
the server itself), and as CSV into a table without a key; Parquet/CSV
`pyarrow.dataset.write_dataset` with the same date partitions; JSONL has no engine path, so
its reference is our own writer on one file. An upsert over existing keys cannot be a plain
bulk insert, so the reload also meets the engine's own bulk upsert (`upsert:` ceilings, compared
with the reload only): DuckDB INSERT OR REPLACE into a keyed table holding every row;
PostgreSQL binary \\copy into a temporary table, then `INSERT ... ON CONFLICT DO UPDATE` (or
`MERGE`) of every row, in one transaction; Parquet/CSV: pyarrow reading the partitions the rows
fall in, a left anti-join on the key, and `write_dataset` of what is left plus the new rows with
`existing_data_behavior='delete_matching'` (like our reload it reads and rewrites each affected
partition; unlike it, without temporary files, renames or fsyncs: a crash half-way loses data).

Each repetition runs our load and then the ceilings on fresh tables, minutes apart, so the
ratio of a repetition compares like with like even when other work shares the machine; the
report gives the median and range over repetitions of rows/s and of those ratios, in wall time
and in CPU time (our process and psql, plus the PostgreSQL backend serving the connection,
read from /proc when the server is local).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as padataset

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

import duckdb

from pinads.load import open_destination
from pinads.load.files_io import FileFormat, write_data_file
from pinads.load.types import duckdb_type, postgres_type
from pinads.settings import AppSettings
from pinads.values import ColumnSpec, TableSpec, WriteMode

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


@dataclass(frozen=True)
class Sample:
    """One timed operation: wall seconds and CPU seconds (every process that worked on it)."""

    wall: float
    cpu: float


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(pid: int | None) -> float:
    """CPU seconds of a local PostgreSQL backend so far (0 if its /proc entry is unreadable)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _execute(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


def timed(fn: Callable[[], object], *, backend: int | None = None) -> Sample:
    wall0, cpu0, server0 = time.perf_counter(), own_cpu(), backend_cpu(backend)
    fn()
    server = backend_cpu(backend) - server0
    return Sample(time.perf_counter() - wall0, own_cpu() - cpu0 + server)


def backend_pid(application_name: str) -> int | None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        found = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchone()
    return int(found[0]) if found else None


def load(
    url: str, rows: pa.Table, spec: TableSpec, steps: int, settings: AppSettings
) -> tuple[Sample, Sample]:
    dest = open_destination(url, settings=settings)
    dest.check()
    pid = backend_pid(url.rsplit("application_name=", 1)[1]) if url.startswith("postgres") else None

    def run(tag: str) -> None:
        # As the runner writes: every step through `write_steps`, as synchronous steps (which a
        # destination that groups steps may share a transaction).
        done: list[tuple[str, int]] = []
        items = [(f"{i}", b, True) for i, b in enumerate(step_batches(rows, steps))]
        dest.write_steps(spec, items, mode=WriteMode.UPSERT, scope=tag, on_commit=done.extend)
        total = sum(written for _, written in done)
        assert total == rows.num_rows, (total, rows.num_rows)

    first = timed(lambda: run("first"), backend=pid)
    again = timed(lambda: run("again"), backend=pid)
    # PostgreSQL's read_table goes through Python objects (GBs for 1M rows): count in SQL.
    if url.startswith("postgres"):
        with psycopg.connect(PG_DSN) as conn:
            schema = url.split("schema=", 1)[1].split("&", 1)[0]
            found = conn.execute(f'SELECT count(*) FROM "{schema}"."{spec.name}"').fetchone()
        assert found == (rows.num_rows,), found
    else:
        assert dest.read_table(spec.name).num_rows == rows.num_rows
    dest.close()
    return first, again


# Ceilings of an upsert over existing keys: compared with our reload only (a first load of new
# keys is an insert, which the other ceilings measure).
UPSERT_CEILING = "upsert:"


def duckdb_ceilings(rows: pa.Table, spec: TableSpec, workdir: Path) -> dict[str, Sample]:
    """CTAS from the Arrow table, and INSERT into a table of the same column types; for the
    reload, DuckDB's own upsert: INSERT OR REPLACE of every row into a table keyed on the
    natural key that holds them all already.

    pinads creates DuckDB tables without a primary key (load/duckdb.py), so the first two have
    none.
    """
    out = {}
    cols = ", ".join(f'"{c.name}" {duckdb_type(c.arrow_type)}' for c in spec.columns)
    for label, create in (("CTAS", ""), ("INSERT into a table of the same types", "plain")):
        path = workdir / f"ceiling-{create}.duckdb"
        con = duckdb.connect(str(path))
        con.register("arrow_rows", rows)
        if create:
            con.execute(f"CREATE TABLE t ({cols})")
            sql = "INSERT INTO t SELECT * FROM arrow_rows"
        else:
            sql = "CREATE TABLE t AS SELECT * FROM arrow_rows"
        out[label] = timed(partial(_execute, con, sql))
        con.close()
        path.unlink()
    path = workdir / "ceiling-keyed.duckdb"
    con = duckdb.connect(str(path))
    con.register("arrow_rows", rows)
    con.execute(f"CREATE TABLE t ({cols}, PRIMARY KEY ({', '.join(spec.key)}))")
    con.execute("INSERT INTO t SELECT * FROM arrow_rows")
    upsert = "INSERT OR REPLACE INTO t SELECT * FROM arrow_rows"
    out[f"{UPSERT_CEILING} INSERT OR REPLACE (keyed)"] = timed(
        lambda: con.execute(upsert).fetchall()
    )
    con.close()
    path.unlink()
    return out


def psql_copy(command: str) -> Sample:
    """Run one psql \\copy; CPU = psql's plus its backend's (read before psql exits)."""
    script = (
        "SELECT pg_backend_pid() AS pid \\gset\n\\setenv PGBENCH_PID :pid\n"
        "\\! cut -d' ' -f14,15 /proc/$PGBENCH_PID/stat\n"
        f"{command}\n"
        "\\! cut -d' ' -f14,15 /proc/$PGBENCH_PID/stat\n"
    )
    wall0, child0 = time.perf_counter(), children_cpu()
    done = subprocess.run(
        ["psql", PG_DSN, "-q", "-X", "-v", "ON_ERROR_STOP=1"],
        input=script,
        check=True,
        capture_output=True,
        text=True,
    )
    wall, psql = time.perf_counter() - wall0, children_cpu() - child0
    ticks = [sum(map(int, line.split())) for line in done.stdout.splitlines() if line.strip()]
    server = (ticks[-1] - ticks[0]) / os.sysconf("SC_CLK_TCK") if len(ticks) == 2 else 0.0
    return Sample(wall, psql + server)


def _staged_upsert(spec: TableSpec, schema: str, table: str, source: Path, *, merge: bool) -> str:
    """psql script: binary \\copy into a temporary table, then INSERT ... ON CONFLICT DO UPDATE
    (or MERGE) into `table`, in one transaction: what PostgreSQL offers for a bulk upsert."""
    names = [f'"{c.name}"' for c in spec.columns]
    keys = [f'"{k}"' for k in spec.key]
    updates = ", ".join(f"{n} = s.{n}" if merge else f"{n} = EXCLUDED.{n}" for n in names)
    target = f'"{schema}".{table}'
    if merge:
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        apply = (
            f"MERGE INTO {target} AS t USING stage AS s ON {on} "
            f"WHEN MATCHED THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED THEN INSERT VALUES ({', '.join(f's.{n}' for n in names)});"
        )
    else:
        apply = (
            f"INSERT INTO {target} SELECT * FROM stage "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates};"
        )
    return (
        f"BEGIN;\nCREATE TEMP TABLE stage (LIKE {target}) ON COMMIT DROP;\n"
        f"\\copy stage FROM '{source}' WITH (FORMAT binary)\n{apply}\nCOMMIT;"
    )


def postgres_ceilings(
    rows: pa.Table, spec: TableSpec, workdir: Path, schema: str
) -> dict[str, Sample]:
    """psql's \\copy of a file of the same rows: CSV and binary into a keyed table, CSV plain;
    then a staged upsert of every row again (ON CONFLICT and MERGE)."""
    csv_path, bin_path = workdir / "rows.csv", workdir / "rows.bin"
    pacsv.write_csv(rows, csv_path)
    cols = ", ".join(f'"{c.name}" {postgres_type(c.arrow_type)}' for c in spec.columns)
    key = f"PRIMARY KEY ({', '.join(spec.key)})"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for table, extra in (("keyed_csv", f", {key}"), ("keyed_bin", f", {key}"), ("plain", "")):
            conn.execute(f'CREATE TABLE "{schema}".{table} ({cols}{extra})')
    out = {}
    out["CSV into keyed table"] = psql_copy(
        f"\\copy \"{schema}\".keyed_csv FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"
    )
    # The binary file is written by the server from the loaded table (not by our encoder).
    psql_copy(f"\\copy \"{schema}\".keyed_csv TO '{bin_path}' WITH (FORMAT binary)")
    out["binary into keyed table"] = psql_copy(
        f"\\copy \"{schema}\".keyed_bin FROM '{bin_path}' WITH (FORMAT binary)"
    )
    out["CSV into table without key"] = psql_copy(
        f"\\copy \"{schema}\".plain FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"
    )
    # Both keyed tables now hold every row: PostgreSQL's own upsert of all of them again.
    out[f"{UPSERT_CEILING} ON CONFLICT DO UPDATE"] = psql_copy(
        _staged_upsert(spec, schema, "keyed_csv", bin_path, merge=False)
    )
    out[f"{UPSERT_CEILING} MERGE"] = psql_copy(
        _staged_upsert(spec, schema, "keyed_bin", bin_path, merge=True)
    )
    csv_path.unlink()
    bin_path.unlink()
    return out


def files_ceilings(rows: pa.Table, fmt: FileFormat, workdir: Path) -> dict[str, Sample]:
    """pyarrow.dataset writing the same date partitions (JSONL: our writer, one file); for the
    reload, pyarrow's own upsert into that dataset (`files_upsert`)."""
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

    def write(data: pa.Table, behavior: str) -> None:
        padataset.write_dataset(
            data,
            target,
            format=fmt.value,
            partitioning=["date"],
            partitioning_flavor="hive",
            file_options=options,
            existing_data_behavior=behavior,
        )

    out = {
        "pyarrow write_dataset (date partitions)": timed(lambda: write(rows, "overwrite_or_ignore"))
    }
    # The dataset just written holds every key: upsert all of them again, as our reload does.
    label = f"{UPSERT_CEILING} pyarrow read + anti-join + write_dataset"
    out[label] = timed(lambda: files_upsert(rows, fmt, target, write))
    shutil.rmtree(target)
    return out


def files_upsert(
    rows: pa.Table, fmt: FileFormat, target: Path, write: Callable[[pa.Table, str], None]
) -> None:
    """pyarrow's own upsert of `rows` into a date-partitioned dataset: read the partitions the
    rows fall in, drop the rows whose key comes again (anti-join), and write what is left plus
    the new rows over those partitions (write_dataset's 'delete_matching' empties each one
    first). Like our reload it reads and rewrites every affected partition; unlike it, it has no
    temporary files, renames or fsyncs, so a crash half-way loses data."""
    key = list(table_spec().key)
    partitioning = padataset.partitioning(pa.schema([rows.schema.field("date")]), flavor="hive")
    dataset = padataset.dataset(
        target, format=fmt.value, schema=rows.schema, partitioning=partitioning
    )
    dates = pc.unique(rows.column("date"))
    existing = dataset.to_table(filter=padataset.field("date").isin(dates))
    kept = existing.join(rows.select(key), keys=key, join_type="left anti")
    merged = pa.concat_tables([kept.select(rows.column_names), rows], promote_options="default")
    write(merged, "delete_matching")


def ceilings(
    kind: str, rows: pa.Table, spec: TableSpec, workdir: Path, schema: str
) -> dict[str, Sample]:
    if kind == "duckdb":
        return duckdb_ceilings(rows, spec, workdir)
    if kind == "postgres":
        return postgres_ceilings(rows, spec, workdir, schema)
    return files_ceilings(rows, FileFormat(kind), workdir)


def url_for(kind: str, workdir: Path, schema: str) -> str:
    if kind == "duckdb":
        return f"duckdb://{workdir / 'bench.duckdb'}"
    if kind == "postgres":
        return f"{PG_DSN}?schema={schema}&application_name={schema}"
    return f"file://{workdir / 'files'}?format={kind}"


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Runs:
    """Every repetition's samples for one destination."""

    first: list[Sample]
    again: list[Sample]
    ceiling: dict[str, list[Sample]]
    load: list[float]


def bench_one(
    kind: str, rows: pa.Table, spec: TableSpec, args: argparse.Namespace, workdir: Path
) -> Runs:
    """`--repeat` repetitions, each on a fresh destination: our load, then the ceilings."""
    # The bench's files live in its own temporary directory, allowed the way an administrator
    # allows one (PINADS_ALLOWED_ROOTS), so it runs whatever the caller's environment says.
    settings = AppSettings(home=workdir / "home", allowed_roots=str(workdir))
    runs = Runs(first=[], again=[], ceiling={}, load=[])
    for _ in range(args.repeat):
        schema = f"pinads_bench_{uuid.uuid4().hex[:8]}"
        try:
            first, again = load(url_for(kind, workdir, schema), rows, spec, args.steps, settings)
            runs.first.append(first)
            runs.again.append(again)
            for label, sample in ceilings(kind, rows, spec, workdir, schema).items():
                runs.ceiling.setdefault(label, []).append(sample)
            runs.load.append(os.getloadavg()[0])
        finally:
            if kind == "postgres":
                drop_schema(schema)
            shutil.rmtree(workdir / "files", ignore_errors=True)
            (workdir / "bench.duckdb").unlink(missing_ok=True)
        print(f"  {kind} repetition {len(runs.first)}: {describe_last(runs, rows.num_rows)}")
    return runs


def describe_last(runs: Runs, n: int) -> str:
    parts = [f"first {n / runs.first[-1].wall:,.0f}", f"reload {n / runs.again[-1].wall:,.0f}"]
    parts += [f"{label} {n / s[-1].wall:,.0f}" for label, s in runs.ceiling.items()]
    return " rows/s; ".join(parts) + f" rows/s (load average {runs.load[-1]:.1f})"


def spread(values: list[float], fmt: str) -> str:
    """Median and range of `values`, formatted with `fmt`."""
    low, mid, high = min(values), statistics.median(values), max(values)
    if len(values) == 1:
        return format(mid, fmt)
    return f"{format(mid, fmt)} ({format(low, fmt)}-{format(high, fmt)})"


def report(kind: str, runs: Runs, n: int) -> None:
    def rate(samples: list[Sample]) -> str:
        walls = [n / s.wall for s in samples]
        cpus = [s.cpu for s in samples]
        return f"{spread(walls, ',.0f')} rows/s, {spread(cpus, '.1f')} CPU-s"

    print(
        f"{kind}: median (range) of {len(runs.first)} repetition(s), load average "
        f"{spread(runs.load, '.1f')}"
    )
    print(f"  first load                 {rate(runs.first)}")
    print(f"  reload (all keys updated)  {rate(runs.again)}")
    for label, samples in runs.ceiling.items():
        print(f"  ceiling {label:<38} {rate(samples)}")
        compared = [("first load", runs.first), ("reload", runs.again)]
        for what, ours in compared[1:] if label.startswith(UPSERT_CEILING) else compared:
            walls = [c.wall / o.wall for o, c in zip(ours, samples, strict=True)]
            cpus = [c.cpu / o.cpu for o, c in zip(ours, samples, strict=True) if o.cpu]
            print(
                f"      {what} / ceiling: wall {spread(walls, '.0%')}, "
                f"CPU {spread(cpus, '.0%') if cpus else 'n/a'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=1, help="plan steps the rows come in")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median and range)")
    parser.add_argument("--only", default="duckdb,postgres,parquet,csv,jsonl")
    args = parser.parse_args()
    spec = table_spec()
    rows = make_rows(args.rows, spec)
    per_step = -(-rows.num_rows // args.steps)
    print(
        f"{rows.num_rows:,} rows x {rows.num_columns} columns "
        f"({rows.nbytes / 1e6:.0f} MB as Arrow), upsert in {args.steps} step(s) of "
        f"{per_step:,} rows, {args.repeat} repetition(s); "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory(prefix="pinads-bench-") as tmp:
        results = {
            kind: bench_one(kind, rows, spec, args, Path(tmp)) for kind in args.only.split(",")
        }
    for kind, runs in results.items():
        report(kind, runs, rows.num_rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS {peak_mb:.0f} MB (the benchmark holds the whole source table: "
        f"{rows.nbytes / 1e6:.0f} MB); python {sys.version.split()[0]}, "
        f"duckdb {duckdb.__version__}, "
        f"pyarrow {pa.__version__}, psycopg {psycopg.__version__}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
