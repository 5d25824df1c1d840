"""The control DB engine: SQLite in PINADS_HOME by default, any SQLAlchemy URL otherwise.

SQLite gets WAL (readers never block the writer), a busy timeout (a second process waits for
the lock instead of failing at once), `synchronous=FULL` (a committed token rotation survives a
power cut, not only a crash), foreign keys and `secure_delete` (freed space is zeroed). Every
SQLite transaction starts with `BEGIN IMMEDIATE`: read-then-write transactions (run locks, token
saves) would otherwise fail with SQLITE_BUSY when they upgrade from a read snapshot that another
process has moved past.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from pinads.errors import StateError
from pinads.settings import AppSettings

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DatabaseError",
    "UTCDateTime",
    "control_engine",
    "create_control_engine",
    "dispose_engines",
    "file_identity",
    "inserted_id",
    "redacted_url",
    "utc_now",
]

BUSY_TIMEOUT_MS = 30_000
# Any failure of the database itself (unreachable, locked, ...): callers that retry or report
# such failures catch this, without importing SQLAlchemy.
DatabaseError = sa.exc.SQLAlchemyError


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: store naive UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("control DB datetimes must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The integer primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise StateError("the control DB did not report the new row's id: retry")
    return int(key[0])


def redacted_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_setup(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's `begin` event (below) own transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Zero what a delete or an update frees, so a secret that was replaced (a destination
        # password encrypted by migration 5, a rotated token) is not left readable in the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None if there is none."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _watch_file(engine: Engine, path: str) -> None:
    """A pooled connection stays on the file it opened: if the file was deleted or replaced
    since (a restored backup), the pool drops the connection and opens the file now there."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info["file"] = file_identity(path)

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file") != file_identity(path):
            raise sa.exc.DisconnectionError("the control DB file was replaced")


def _create_private_file(database: str | None) -> None:
    """Create the SQLite file owner-only before SQLite does (it would use the umask, often
    0644): it holds encrypted tokens and run history. SQLite gives its -wal and -shm files the
    main file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if os.path.exists(database):
        # Never open and close a descriptor on a database this process may have open: POSIX
        # drops all of a process's locks on a file when any descriptor of it is closed, so
        # SQLite's WAL locks would go and its connections stop seeing other processes' commits.
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return  # created meanwhile, or unusable: SQLite reports an unusable path itself


def _url_of(settings: AppSettings | None, url: str | None) -> str:
    if url is not None:
        return url
    if settings is None:
        raise ValueError("pass settings or url")
    if settings.database_url is None:
        settings.ensure_home()
    return settings.control_db_url


def create_control_engine(settings: AppSettings | None = None, *, url: str | None = None) -> Engine:
    """A new engine for the control DB at `url` or `settings.control_db_url` (most callers
    want the process's shared one: `control_engine`)."""
    url = _url_of(settings, url)
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            _create_private_file(parsed.database)
            engine = sa.create_engine(
                parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            )
            _sqlite_setup(engine)
            if parsed.database and parsed.database != ":memory:":
                _watch_file(engine, parsed.database)
            return engine
        return sa.create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StateError(
            f"the control DB URL {redacted_url(url)} is not usable ({exc}): fix "
            "PINADS_DATABASE_URL (e.g. postgresql+psycopg://user@host/db or sqlite:///path)"
        ) from exc


# One engine per control-DB URL and process: a pool of connections reused by every service
# call (building an engine and opening SQLite costs more than most queries). Bounded, for
# processes that open many databases in turn (the test suite): an evicted engine is disposed
# (its idle connections closed) and still works for whoever holds it.
_MAX_ENGINES = 8
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = threading.Lock()


def control_engine(settings: AppSettings | None = None, *, url: str | None = None) -> Engine:
    """The process's engine for the control DB at `url` or `settings.control_db_url`."""
    url = _url_of(settings, url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = create_control_engine(url=url)
        _engines[url] = engine
        if len(_engines) > _MAX_ENGINES:
            _engines.popitem(last=False)[1].dispose()
        return engine


def dispose_engines() -> None:
    """Close every pooled connection of the process's engines (at exit)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()


def _after_fork_in_child() -> None:
    global _engines_lock  # noqa: PLW0603  (another thread may have held it at the fork)
    _engines_lock = threading.Lock()
    # SQLAlchemy's recipe for forked processes (Celery's prefork workers): a connection must
    # never be shared across processes, so the child drops the parent's pooled connections
    # without closing them (closing would end the parent's sessions) and opens its own.
    for engine in list(_engines.values()):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(dispose_engines)
