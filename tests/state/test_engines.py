"""One engine per control-DB URL and process: shared by every open, schema checked once,
fork-safe (a child never uses its parent's connections), and a replaced SQLite file is
reopened and migrated again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from pinads.settings import load_settings
from pinads.state import control_engine, open_control_db


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_every_open_shares_one_engine_and_checks_the_schema_once(control_url: str) -> None:
    load_settings().ensure_home()
    first = open_control_db(url=control_url)
    assert control_engine(url=control_url) is first.engine
    with statements(first.engine) as seen:
        again = open_control_db(url=control_url)
        assert again.engine is first.engine
    assert seen == []  # no migration check, no connection: only the first open of the process
    again.sources.create("shop", {"dataset": "campaigns"}, authorizer_id=None)
    assert [s.name for s in first.sources.all()] == ["shop"]


def _connection_id(conn: sa.Connection) -> str:
    if conn.dialect.name == "postgresql":
        return str(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar())
    return str(id(conn.connection.dbapi_connection))


def test_a_forked_child_opens_its_own_connections(control_url: str) -> None:
    """What Celery's prefork workers do: the child must not use (nor close) the parent's
    pooled connections; the parent's go on working."""
    load_settings().ensure_home()
    db = open_control_db(url=control_url)
    with db.engine.connect() as conn:
        parent = _connection_id(conn)  # now idle in the pool, inherited by the child
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its connection and whether the database answered
        try:
            with open_control_db(url=control_url).engine.connect() as conn:
                child = _connection_id(conn)
                names = conn.execute(sa.text("SELECT count(*) FROM sources")).scalar()
            os.write(write, f"{child} {names}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child, sources = pipe.read().split()
    os.waitpid(pid, 0)
    assert (child != parent, sources) == (True, "0")
    with db.engine.connect() as conn:
        assert _connection_id(conn) == parent
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1


def test_a_replaced_sqlite_file_is_reopened_and_migrated() -> None:
    settings = load_settings()
    db = open_control_db(settings)
    db.sources.create("shop", {"dataset": "campaigns"}, authorizer_id=None)
    for path in settings.home.glob("pinads.db*"):
        path.unlink()  # e.g. an operator restoring an empty backup
    fresh = open_control_db(settings)
    assert fresh.engine is db.engine
    assert fresh.sources.all() == []
    fresh.sources.create("other", {"dataset": "campaigns"}, authorizer_id=None)
    assert [s.name for s in db.sources.all()] == ["other"]


def test_the_process_keeps_a_bounded_number_of_engines(tmp_path: Path) -> None:
    """Processes that open many databases in turn (the tests) do not pile up pools."""
    from pinads.state import db as state_db

    count = state_db._MAX_ENGINES + 4
    urls = [f"sqlite:///{tmp_path}/control-{n}.db" for n in range(count)]
    engines = [control_engine(url=url) for url in urls]
    assert len(state_db._engines) <= state_db._MAX_ENGINES < count
    assert control_engine(url=urls[-1]) is engines[-1]
    with engines[0].connect() as conn:  # an evicted engine still works
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
