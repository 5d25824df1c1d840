"""A destination killed in the middle of a write keeps the previous data and the checkpoint."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pyarrow as pa
import pytest
from contract_helpers import (
    PG_DSN,
    Target,
    batches,
    expected_rows,
    grid,
    latest_by_key,
    spec,
    table_rows,
)

from pinads.errors import LoadError
from pinads.load import TableSpec, WriteMode

SCOPE = "source:campaign_daily"
UPSERT = WriteMode.UPSERT

_CRASHING_RUN = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[2])
    from contract_helpers import batches, grid, spec
    from pinads.load import WriteMode, open_destination
    from pinads.settings import load_settings

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


def _terminating(
    table: TableSpec, rows: list[dict[str, object]], app: str
) -> Iterator[pa.RecordBatch]:
    for i, batch in enumerate(batches(table, rows, size=3)):
        if i == 2:
            with psycopg.connect(PG_DSN, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (app,),
                ).fetchone()
                assert killed == (1,)
        yield batch


def test_postgres_connection_killed_mid_write(target: Target) -> None:
    if target.kind != "postgres":
        pytest.skip("only PostgreSQL has a server connection to kill from outside")
    app = parse_qs(urlsplit(target.url).query)["application_name"][0]
    table = spec()
    dest = target.open()
    old = grid(range(0, 4), range(3), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope=SCOPE, step_id="a")
    new = grid(range(2, 8), range(3), spend=2)
    with pytest.raises(LoadError, match=r"connection to PostgreSQL .* was lost"):
        dest.write_step(table, _terminating(table, new, app), mode=UPSERT, scope=SCOPE, step_id="b")
    # The same destination reconnects; the step was not kept and the next run completes it.
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        old, table.column_names
    )
    assert dest.completed_steps(table.name, SCOPE) == {"a"}
    dest.write_step(table, batches(table, new), mode=UPSERT, scope=SCOPE, step_id="b")
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        latest_by_key(old, new), table.column_names
    )
