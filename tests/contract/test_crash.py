"""A destination killed in the middle of a write keeps the previous data and the checkpoint."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from contract_helpers import (
    PG_DSN,
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
from pinads.values import TableSpec, WriteMode

SCOPE = "source:campaign_daily"
UPSERT = WriteMode.UPSERT

_CRASHING_RUN = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[2])
    from contract_helpers import batches, grid, spec
    from pinads.load import open_destination
    from pinads.settings import load_settings
    from pinads.values import WriteMode

    dest = open_destination(sys.argv[1], settings=load_settings())
    table = spec()

    def dying():
        for i, batch in enumerate(batches(table, grid(range(2, 8), range(3), spend=2), size=3)):
            if i == 3:
                os._exit(17)  # the process dies: no rollback, no cleanup, no atexit
            yield batch

    dest.write_step(table, dying(), mode=WriteMode.UPSERT, scope=sys.argv[3], step_id="b")
    """
)


def test_process_killed_mid_write_keeps_previous_data(target: Target) -> None:
    table = spec()
    dest = target.open()
    old = grid(range(0, 4), range(3), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")
    dest.close()

    here = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_RUN, target.url, here, SCOPE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 17, done.stderr

    dest = target.open()
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        old, table.column_names
    )
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    new = grid(range(2, 8), range(3), spend=2)
    dest.write_step(table, batches(table, new), mode=UPSERT, scope=SCOPE, step_id="b")
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        latest_by_key(old, new), table.column_names
    )
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}


def _many_rows(table: TableSpec, n: int, *, spend: int) -> pa.Table:
    """`n` rows of the contract spec, built column-wise (fast enough for 100k+ rows)."""
    base = row(0, 0, spend=spend)
    idx = pa.array(range(n), pa.int64())
    columns = {
        name: pa.array([base[name]] * n, table.column(name).arrow_type)
        for name in table.column_names
    }
    columns["date"] = pc.cast(pc.add(pc.remainder(idx, 60), 20_697), pa.int32()).cast(pa.date32())
    columns["campaign_id"] = pc.cast(pc.divide(idx, 60), pa.string())
    return pa.Table.from_pydict(columns, schema=table.schema)


class _CopyKiller(threading.Thread):
    """Terminates the destination's backend as soon as it is seen running a matching COPY."""

    def __init__(self, app: str, query_like: str) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.query_like = query_like
        self.killed = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            while not self.stop.is_set() and not self.killed.is_set():
                found = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s AND state = 'active' AND query LIKE %s",
                    (self.app, self.query_like),
                ).fetchone()
                if found and found[0]:
                    self.killed.set()
                time.sleep(0.005)


@pytest.mark.parametrize("target", ["postgres"], indirect=True)
@pytest.mark.parametrize("during", ["keys", "rows"])
def test_postgres_connection_killed_during_copy(target: Target, during: str) -> None:
    """Killed while the step's keys are sent, or while its rows are, after the old rows with
    those keys were deleted in the same transaction."""
    query = parse_qs(urlsplit(target.url).query)
    app, schema = query["application_name"][0], query["schema"][0]
    table = spec()
    dest = target.open()
    old = _many_rows(table, 2_000, spend=1)
    dest.write_step(table, old.to_batches(), mode=UPSERT, scope=SCOPE, step_id="a")
    new = _many_rows(table, 150_000, spend=2)
    like = 'COPY "_pinads_keys"%' if during == "keys" else f'COPY "{schema}"."{table.name}"%'
    killer = _CopyKiller(app, like)
    killer.start()
    try:
        with pytest.raises(LoadError, match=r"connection to PostgreSQL .* was lost"):
            dest.write_step(table, new.to_batches(), mode=UPSERT, scope=SCOPE, step_id="b")
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed.is_set()
    # The same destination reconnects; the step was not kept and the next run completes it.
    assert dest.read_table(table.name).num_rows == 2_000
    assert table_rows(dest.read_table(table.name), table.column_names) == table_rows(
        old, table.column_names
    )
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    assert (
        dest.write_step(table, new.to_batches(), mode=UPSERT, scope=SCOPE, step_id="b") == 150_000
    )
    assert dest.read_table(table.name).num_rows == 150_000
    assert dest.completed_steps(table.name, SCOPE) == {"a", "b"}
