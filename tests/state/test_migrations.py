"""Schema versions: fresh databases, upgrades from older versions, newer versions refused."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pinads.errors import StateError
from pinads.settings import load_settings
from pinads.state import LATEST_VERSION, MIGRATIONS, create_control_engine, migrate, open_control_db
from pinads.state.schema import METADATA, SCHEMA_VERSION, WEB_SCHEMA_VERSION
from pinads.values import RunKind


def _columns(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {name: {c["name"] for c in inspector.get_columns(name)} for name in METADATA.tables}


def test_fresh_database_has_every_table_and_column(control_url: str) -> None:
    load_settings().ensure_home()
    with open_control_db(url=control_url) as db:
        assert db.version == LATEST_VERSION == MIGRATIONS[-1].version
        expected = {name: set(t.columns.keys()) for name, t in METADATA.tables.items()}
        assert _columns(db.engine) == expected
        with db.engine.connect() as conn:
            versions = conn.execute(sa.select(SCHEMA_VERSION.c.version)).scalars().all()
        assert sorted(versions) == [m.version for m in MIGRATIONS]


def test_older_database_is_upgraded_on_open_and_keeps_its_rows(control_url: str) -> None:
    load_settings().ensure_home()
    engine = create_control_engine(url=control_url)
    assert migrate(engine, target=1) == 1
    tables = set(sa.inspect(engine).get_table_names())
    assert {"authorizers", "sources"} <= tables
    assert "runs" not in tables
    assert "rate_tier" not in {c["name"] for c in sa.inspect(engine).get_columns("authorizers")}
    now = datetime.now(UTC)
    with engine.begin() as conn:  # a row written by the version-1 pinads
        conn.execute(
            sa.text(
                "INSERT INTO authorizers (label, api_url, client_id, client_secret_enc, scopes, "
                "created_at, updated_at) VALUES ('old', 'http://x/v5', 'cid', 'enc', "
                "'ads:read', :now, :now)"
            ),
            {"now": now.replace(tzinfo=None)},
        )
    engine.dispose()

    with open_control_db(url=control_url) as db:
        assert db.version == LATEST_VERSION
        old = db.authorizers.find("old")
        assert old.rate_tier == "standard"
        assert old.revoked_at is None
        assert old.scopes == ("ads:read",)
        source = db.sources.create("s", {"authorizer": "old"}, authorizer_id=old.id)
        assert db.runs.recent(source.id) == []


def test_reopening_applies_nothing_twice(control_url: str) -> None:
    load_settings().ensure_home()
    for _ in range(2):
        with open_control_db(url=control_url) as db:
            assert db.version == LATEST_VERSION
    engine = create_control_engine(url=control_url)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(SCHEMA_VERSION)).scalar()
    engine.dispose()
    assert count == len(MIGRATIONS)


def test_database_from_a_newer_pinads_is_refused(control_url: str) -> None:
    load_settings().ensure_home()
    with open_control_db(url=control_url) as db, db.engine.begin() as conn:
        conn.execute(
            SCHEMA_VERSION.insert().values(
                version=LATEST_VERSION + 1, description="future", applied_at=datetime.now(UTC)
            )
        )
    with pytest.raises(StateError, match=r"newer than this pinads knows .*: upgrade pinads"):
        open_control_db(url=control_url)


def test_unusable_url_is_a_state_error_without_password() -> None:
    with pytest.raises(StateError, match="PINADS_DATABASE_URL") as info:
        create_control_engine(url="nosuchdb+driver://bob:hunter2@host/db")
    assert "hunter2" not in str(info.value)


def test_unreachable_server_is_a_state_error() -> None:
    engine = create_control_engine(
        url="postgresql+psycopg://bob:hunter2@127.0.0.1:1/none?connect_timeout=2"
    )
    with pytest.raises(StateError, match="cannot open the control DB") as info:
        migrate(engine)
    assert "hunter2" not in str(info.value)


def test_default_sqlite_uses_wal_in_pinads_home() -> None:
    settings = load_settings()
    with open_control_db(settings) as db:
        assert db.engine.url.database == str(settings.home / "pinads.db")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_sqlite_file_and_its_wal_are_owner_only() -> None:
    """The control DB holds encrypted tokens and run history: nobody else may read it."""
    settings = load_settings()
    with open_control_db(settings) as db, db.engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
        files = sorted(settings.home.glob("*.db*"))
        assert files, "the default control DB lives in PINADS_HOME"
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    assert set(modes.values()) == {0o600}, modes


def _drop_foreign_keys(engine: sa.Engine) -> None:
    """PostgreSQL: drop the constraints. SQLite enforces none unless a connection asks (ours
    do): the raw inserts below run through a connection that does not."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table, name in (("runs", "fk_runs_source"), ("run_locks", "fk_run_locks_source")):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))


def _raw(engine: sa.Engine) -> sa.Engine:
    if engine.dialect.name == "postgresql":
        return engine
    return sa.create_engine(engine.url)  # plain SQLite: foreign keys off


def test_version_4_drops_the_rows_of_sources_deleted_before_it(control_url: str) -> None:
    load_settings().ensure_home()
    engine = create_control_engine(url=control_url)
    assert migrate(engine, target=3) == 3
    now = datetime.now(UTC).replace(tzinfo=None)
    _drop_foreign_keys(engine)  # as versions 1-3 of pinads made them: rows outlived source 2
    with _raw(engine).begin() as conn:
        kept = conn.execute(
            sa.text(
                "INSERT INTO sources (name, config, created_at, updated_at) "
                "VALUES ('kept', '{}', :now, :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        for run_id, source_id in (("mine", kept), ("orphan", kept + 1)):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, source_id, kind, status, rows_written, api_calls, "
                    "rate_limited_waits, started_at, pid, host) VALUES (:id, :source, "
                    "'manual', 'running', 0, 0, 0, :now, 1, 'h')"
                ),
                {"id": run_id, "source": source_id, "now": now},
            )
        conn.execute(
            sa.text(
                "INSERT INTO run_locks (source_id, run_id, pid, host, acquired_at, heartbeat_at) "
                "VALUES (:source, 'orphan', 1, 'h', :now, :now)"
            ),
            {"source": kept + 1, "now": now},
        )
    engine.dispose()
    with open_control_db(url=control_url) as db:
        assert [run.id for run in db.runs.recent()] == ["mine"]
        assert db.runs.lock_of(kept + 1) is None
        again = db.sources.create("new", {}, authorizer_id=None)
        db.runs.start(again.id, kind=RunKind.MANUAL)
        db.sources.delete("new")  # with its history
        assert [run.id for run in db.runs.recent()] == ["mine"]


def test_users_and_tokens_made_before_roles_become_admin_after_the_upgrade(
    control_url: str,
) -> None:
    """A web schema at version 1 (users and tokens without roles): version 3 adds the roles,
    existing users become admins, their tokens act as their user, and notifications exist."""
    load_settings().ensure_home()
    engine = create_control_engine(url=control_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL "
                "UNIQUE, password_hash VARCHAR(300) NOT NULL, created_at TIMESTAMP NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL, "
                "token_sha256 VARCHAR(64) NOT NULL UNIQUE, username VARCHAR(64) NOT NULL, "
                "created_at TIMESTAMP NOT NULL, last_used_at TIMESTAMP)"
            )
        )
        conn.execute(sa.text("INSERT INTO users VALUES (1, 'old', 'scrypt$x', :now)"), {"now": now})
        conn.execute(
            sa.text("INSERT INTO api_tokens VALUES (1, 't', 'abc', 'old', :now, NULL)"),
            {"now": now},
        )
        WEB_SCHEMA_VERSION.create(conn)
        for version in (1,):  # users and tokens: the web schema before sessions and roles
            conn.execute(
                WEB_SCHEMA_VERSION.insert().values(version=version, applied_at=datetime.now(UTC))
            )
    engine.dispose()

    with open_control_db(url=control_url) as db:
        assert db.users.role("old") == "admin"
        use = db.api_tokens.use("abc")
        assert use is not None and (use.username, use.role) == ("old", None)
        assert db.notifications.channels() == []
        assert _columns(db.engine)["users"] >= {"role", "disabled_at"}
