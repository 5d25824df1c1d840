"""Control-DB overhead per command and per service call, on a control DB with 50 sources.

- command: `python -m pinads sources list` as a new process, `--commands` times (wall time;
  each process opens the control DB, checks its schema and reads the sources);
- call: in one process, `SourceStore(settings)` + `.list()` + `.close()` `--calls` times,
  what the web server and the scheduler do per request or per due check (wall and CPU time,
  and the SQL statements each call sends).

    .venv/bin/python bench/control_db.py                      # SQLite in a temporary home
    .venv/bin/python bench/control_db.py --postgres           # PostgreSQL 127.0.0.1 (a schema)
    PYTHONPATH=/path/to/other/src .venv/bin/python bench/control_db.py   # another checkout

Only public APIs that every version since the control DB has are used, so two checkouts can
be measured side by side by pointing PYTHONPATH at each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import sqlalchemy as sa

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _make_world(home: Path, url: str | None, sources: int) -> dict[str, str]:
    env = {**os.environ, "PINADS_HOME": str(home), "PINADS_ALLOWED_ROOTS": str(home.parent)}
    if url:
        env["PINADS_DATABASE_URL"] = url
    os.environ.update(env)
    from pinads.settings import load_settings
    from pinads.state import open_control_db

    db = open_control_db(load_settings())
    for n in range(sources):
        db.sources.create(
            f"source_{n:02d}",
            {"name": f"source_{n:02d}", "dataset": "campaigns", "authorizer": "demo"},
            authorizer_id=None,
        )
    db.close()
    return env


def _commands(env: dict[str, str], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pinads", "sources", "list"],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return times


def _calls(count: int) -> tuple[list[float], float, float]:
    from pinads.runner.store import SourceStore
    from pinads.settings import load_settings

    statements = [0]

    def counted(*_args: object) -> None:
        statements[0] += 1

    sa.event.listen(sa.Engine, "before_cursor_execute", counted)
    settings = load_settings()
    times = []
    cpu = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        store = SourceStore(settings)
        store.list()
        store.close()
        times.append(time.perf_counter() - start)
    return times, (time.process_time() - cpu) / count, statements[0] / count


def _postgres_url() -> tuple[str, str]:
    schema = f"pinads_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return (
        schema,
        f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    schema, url = _postgres_url() if args.postgres else ("", None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = _make_world(Path(tmp) / "home", url, args.sources)
            commands = _commands(env, args.commands)
            calls, cpu, statements = _calls(args.calls)
    finally:
        if schema:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    import pinads

    backend = "postgresql" if url else "sqlite"
    ms = 1000
    print(f"pinads from {Path(pinads.__file__).parent}; control DB {backend}")
    print(
        f"`pinads sources list` x{len(commands)}: "
        f"median {statistics.median(commands) * ms:.0f} ms, min {min(commands) * ms:.0f} ms"
    )
    print(
        f"SourceStore + list + close x{len(calls)}: "
        f"median {statistics.median(calls) * ms:.2f} ms wall, {cpu * ms:.2f} ms CPU, "
        f"{statements:.1f} SQL statements per call"
    )


if __name__ == "__main__":
    main()
