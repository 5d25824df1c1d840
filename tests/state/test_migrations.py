"""Alembic migrations of the control DB: a fresh database matches the tables' definitions, a
database of the hand-written migrations is adopted without losing a row, concurrent first
starts migrate once, newer and too old databases are refused with what to do."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pinads.errors import StateError
from pinads.settings import load_settings
from pinads.state import (
    HEAD,
    Upgrade,
    create_control_engine,
    current_revisions,
    open_control_db,
    upgrade,
)
from pinads.state.migrations import script
from pinads.state.schema import METADATA

FIXTURES = Path(__file__).parent / "fixtures"


def schema_differences(engine: sa.Engine) -> list[object]:
    """What Alembic's autogenerate finds between the database and the tables' definitions."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, METADATA))


@pytest.fixture
def engine(control_url: str) -> Iterator[sa.Engine]:
    """A separate engine (not the process's shared one), disposed afterwards."""
    load_settings().ensure_home()
    made = create_control_engine(url=control_url)
    yield made
    made.dispose()


def test_head_is_the_newest_revision_and_the_only_head() -> None:
    assert script().get_heads() == [HEAD]


def test_fresh_database_matches_the_table_definitions(control_url: str) -> None:
    load_settings().ensure_home()
    db = open_control_db(url=control_url)
    assert schema_differences(db.engine) == []
    with db.engine.connect() as conn:
        assert current_revisions(conn) == (HEAD,)
    assert not {"schema_version", "web_schema_version"} & set(
        sa.inspect(db.engine).get_table_names()
    )


def test_upgrading_an_up_to_date_database_changes_nothing(engine: sa.Engine) -> None:
    assert upgrade(engine) == Upgrade(None, HEAD)
    assert upgrade(engine) == Upgrade(HEAD, HEAD)
    assert not upgrade(engine).changed


def test_concurrent_first_starts_migrate_once(control_url: str) -> None:
    """Four engines (as four processes would have) upgrade a new database at the same moment:
    one creates the tables, the others wait for its lock and find them made."""
    load_settings().ensure_home()
    engines = [create_control_engine(url=control_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    results: list[Upgrade | StateError | sa.exc.SQLAlchemyError] = []

    def first_start(engine: sa.Engine) -> None:
        start.wait()
        try:
            results.append(upgrade(engine))
        except (StateError, sa.exc.SQLAlchemyError) as exc:  # reported by the assert below
            results.append(exc)

    threads = [threading.Thread(target=first_start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert sorted(map(repr, results)) == sorted(
        [repr(Upgrade(None, HEAD))] + [repr(Upgrade(HEAD, HEAD))] * 3
    )


def test_database_from_a_newer_pinads_is_refused(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StateError, match=r"revision 9999, unknown to .*upgrade pinads"):
        upgrade(engine)


def test_unusable_url_is_a_state_error_without_password() -> None:
    with pytest.raises(StateError, match="PINADS_DATABASE_URL") as info:
        create_control_engine(url="nosuchdb+driver://bob:hunter2@host/db")
    assert "hunter2" not in str(info.value)


def test_unreachable_server_is_a_state_error() -> None:
    engine = create_control_engine(
        url="postgresql+psycopg://bob:hunter2@127.0.0.1:1/none?connect_timeout=2"
    )
    with pytest.raises(StateError, match="cannot open the control DB") as info:
        upgrade(engine)
    assert "hunter2" not in str(info.value)


def test_default_sqlite_uses_wal_in_pinads_home() -> None:
    settings = load_settings()
    db = open_control_db(settings)
    assert db.engine.url.database == str(settings.home / "pinads.db")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_sqlite_file_and_its_wal_are_owner_only() -> None:
    """The control DB holds encrypted tokens and run history: nobody else may read it."""
    settings = load_settings()
    db = open_control_db(settings)
    with db.engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
        files = sorted(settings.home.glob("*.db*"))
        assert files, "the default control DB lives in PINADS_HOME"
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    assert set(modes.values()) == {0o600}, modes
