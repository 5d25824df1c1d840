"""Schema migrations of the control DB, with Alembic (revisions in `versions/`, environment in
`env.py`; configured here, no alembic.ini).

`upgrade` brings a database to the latest revision. It first reads the revision without any
lock (the common case, an up-to-date database, costs two small queries); otherwise it migrates
in one transaction under a lock - SQLite: `BEGIN IMMEDIATE` (every transaction of the control
engine starts so); PostgreSQL: a transaction-scoped advisory lock - so several processes
starting at once on a new or old database migrate it once, and the others wait and find it
done.

Databases made by the hand-written migrations (before Alembic) have a `schema_version` table
for the control tables and, once the web was used, `web_schema_version` for the web's. Both
lines of versions have a branch of revisions here: control versions 5 and 6 are revisions
0001 and 0002, web versions 1 and 2 are 0003 and 0004; 0005 joins the branches, and web
version 3 (which came with control version 6) is 0006. Such a
database is stamped with the revision of each of its versions, its old version tables are
dropped, and it is upgraded from there, all in the same transaction. Control versions before
5 (wave 1's) are first brought to version 5 by `legacy.py`, in that transaction too: destination
passwords then get encrypted, so an upgrade is given the installation's secret key (`cipher`).

A new revision is a file in `versions/` whose `down_revision` is the newest one (`HEAD`, which
it then replaces); `tests/state/test_migrations.py` checks that the revisions build exactly
the tables of `schema.py`, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pinads.errors import StateError
from pinads.state.db import redacted_url
from pinads.state.sealing import CipherFactory

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "HEAD",
    "VERSION_TABLE",
    "Upgrade",
    "current_revisions",
    "legacy_adoptable",
    "legacy_versions",
    "script",
    "upgrade",
]

log = logging.getLogger(__name__)

# The newest revision (a test checks it is the head of `versions/`): an up-to-date database is
# recognised without loading Alembic.
HEAD = "0006"
VERSION_TABLE = "alembic_version"
_HERE = Path(__file__).parent
# A fixed key for pg_advisory_xact_lock: "pinads" in ASCII.
_PG_LOCK_KEY = 0x70696E616473
# The revision of each version of the hand-written migrations (control, web).
_LEGACY_CONTROL = {5: "0001", 6: "0002"}
_LEGACY_WEB = {1: "0003", 2: "0004", 3: "0006"}
# Web version 3 came with control version 6 (both migrate in one transaction): after the join.
_WEB_AFTER_JOIN = 3


@dataclass(frozen=True, slots=True)
class Upgrade:
    """The revision before (None: an empty database; `legacy ...`: hand-written versions) and
    after an upgrade."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@functools.cache
def script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(_HERE))


def _config(conn: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["connection"] = conn
    return config


def current_revisions(conn: sa.Connection) -> tuple[str, ...]:
    """The revisions the database is at (one once up to date; none: not under Alembic yet)."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return ()
    query = sa.select(sa.column("version_num", sa.String)).select_from(sa.table(VERSION_TABLE))
    rows = conn.execute(query).scalars()
    return tuple(sorted(str(row) for row in rows))


def _label(revisions: tuple[str, ...]) -> str | None:
    return "+".join(revisions) or None


def _legacy_version(conn: sa.Connection, table: str) -> int | None:
    if not sa.inspect(conn).has_table(table):
        return None
    query = sa.select(sa.func.max(sa.column("version", sa.Integer))).select_from(sa.table(table))
    value = conn.execute(query).scalar()
    return int(value or 0)


def legacy_versions(conn: sa.Connection) -> str | None:
    """The hand-written migrations' versions of the database (`6/2`: control/web), if any."""
    control = _legacy_version(conn, "schema_version")
    web = _legacy_version(conn, "web_schema_version")
    if control is None and web is None:
        return None
    return f"{control or 0}/{web or 0}"


def _released(control: int | None, web: int | None) -> bool:
    """Whether a released pinads made these hand-written versions (so they can be adopted)."""
    return not (
        (control is not None and control > max(_LEGACY_CONTROL))
        or (web is not None and web not in _LEGACY_WEB)
        or (web == _WEB_AFTER_JOIN and control != max(_LEGACY_CONTROL))
    )


def legacy_adoptable(conn: sa.Connection) -> bool:
    """Whether `upgrade` can adopt the database's hand-written versions (see `legacy_versions`)."""
    return _released(
        _legacy_version(conn, "schema_version"), _legacy_version(conn, "web_schema_version")
    )


def _adopt_legacy(
    conn: sa.Connection, url: str, cipher: CipherFactory | None
) -> tuple[str | None, int]:
    """Stamp a database of the hand-written migrations with its revisions (after bringing
    control versions before 5 to 5) and drop their version tables. Returns what it was
    (`legacy 6/2`; None for a database without them) and how many destination passwords it
    encrypted on the way."""
    control = _legacy_version(conn, "schema_version")
    web = _legacy_version(conn, "web_schema_version")
    sealed = 0
    if control is None and web is None:
        return None, sealed
    was = f"legacy {control or 0}/{web or 0}"
    if not _released(control, web):
        raise StateError(
            f"the control DB {url} is at hand-written schema version {control} (web: {web}), "
            "which no released pinads made: upgrade it with the pinads build that made it, "
            "or point PINADS_DATABASE_URL / PINADS_HOME at a new control DB"
        )
    if control is not None and control not in _LEGACY_CONTROL:
        from pinads.state.migrations.legacy import FIRST_ADOPTED, bring_to_version_5

        sealed = bring_to_version_5(conn, control, cipher)
        control = FIRST_ADOPTED
    from alembic import command

    stamps = [_LEGACY_CONTROL[control]] if control is not None else []
    stamps += [_LEGACY_WEB[web]] if web is not None else []
    if web == _WEB_AFTER_JOIN:  # its revision comes after the join: it stands for both
        stamps = [_LEGACY_WEB[web]]
    command.stamp(_config(conn), stamps)
    for table in ("schema_version", "web_schema_version"):
        sa.Table(table, sa.MetaData()).drop(conn, checkfirst=True)
    return was, sealed


def _lock(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _known(revisions: tuple[str, ...], url: str) -> None:
    from alembic.util import CommandError

    for revision in revisions:
        try:
            known = script().get_revision(revision) is not None
        except CommandError:
            known = False
        if not known:
            raise StateError(
                f"the control DB {url} is at schema revision {revision}, unknown to this "
                f"pinads (its newest is {HEAD}): it was made by a newer pinads, upgrade pinads"
            )


def upgrade(
    engine: sa.Engine, target: str = "head", *, cipher: CipherFactory | None = None
) -> Upgrade:
    """Migrate the database to `target` (default: the newest revision). `cipher`: the
    installation's secret key, needed only to adopt a wave-1 database whose destinations hold
    a password (without it that upgrade fails and changes nothing)."""
    url = redacted_url(str(engine.url))
    for attempt in range(_SQLITE_LOCK_ATTEMPTS):
        try:
            return _upgrade_once(engine, target, url, cipher)
        except sa.exc.OperationalError as exc:
            if attempt + 1 < _SQLITE_LOCK_ATTEMPTS and _sqlite_contention(engine, exc):
                continue
            raise StateError(
                f"cannot open the control DB {url} ({type(exc.orig).__name__}): check "
                "PINADS_DATABASE_URL / PINADS_HOME and that the database is reachable"
            ) from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


# SQLite can answer "locked" at once, without waiting out the busy timeout, when several
# processes open a new file together (switching it to WAL, recovering its index); the
# upgrade is idempotent under its lock, so such a first start simply tries again.
_SQLITE_LOCK_ATTEMPTS = 5


def _sqlite_contention(engine: sa.Engine, exc: sa.exc.OperationalError) -> bool:
    message = str(exc.orig).lower()
    return engine.dialect.name == "sqlite" and ("locked" in message or "busy" in message)


def _upgrade_once(
    engine: sa.Engine, target: str, url: str, cipher: CipherFactory | None
) -> Upgrade:
    with engine.connect() as conn:
        before = current_revisions(conn)
    if before == (HEAD,) and target in ("head", HEAD):
        return Upgrade(HEAD, HEAD)
    return _upgrade_locked(engine, target, url, cipher)


def _upgrade_locked(
    engine: sa.Engine, target: str, url: str, cipher: CipherFactory | None
) -> Upgrade:
    from alembic import command

    sealed = 0
    with engine.begin() as conn:
        _lock(conn)
        # Read again under the lock: another process may have migrated meanwhile.
        revisions = current_revisions(conn)
        if revisions:
            _known(revisions, url)
            before = _label(revisions)
        else:
            before, sealed = _adopt_legacy(conn, url, cipher)
        command.upgrade(_config(conn), target)
        after = _label(current_revisions(conn))
    if sealed:
        _scrub(engine)
    return Upgrade(before, after)


def _scrub(engine: sa.Engine) -> None:
    """After passwords were encrypted in place: SQLite copies its write-ahead log into the file
    and empties it, so no page that held them in clear stays behind (freed space is zeroed by
    `secure_delete`). PostgreSQL keeps the old row versions until VACUUM; VACUUM FULL rewrites
    the table without them (its own WAL archive, if any, is the administrator's)."""
    if engine.dialect.name == "postgresql":
        _vacuum_sources(engine)
    elif engine.dialect.name == "sqlite":
        _checkpoint(engine)


_SCRUB_ADVICE = "so no old copy keeps the destination passwords just encrypted in clear"


def _vacuum_sources(engine: sa.Engine) -> None:
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM FULL waits for every reader of the table and blocks them meanwhile: give
            # up after a while rather than stall the installation (the upgrade is committed).
            conn.exec_driver_sql("SET lock_timeout = '10s'")
            conn.exec_driver_sql("VACUUM FULL sources")  # outside a transaction, as it must
    except sa.exc.DBAPIError as exc:
        log.warning(
            "could not rewrite the sources table (%s): run `VACUUM FULL sources` as its owner "
            "when it is idle, %s",
            type(exc.orig).__name__,
            _SCRUB_ADVICE,
        )


def _checkpoint(engine: sa.Engine) -> None:
    # The driver's own connection: outside any transaction (the engine's begin events would
    # open one), which a checkpoint needs.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    if row is None or row[0]:
        log.warning(
            "another process kept the control DB's write-ahead log busy: stop the other pinads "
            "processes and run `sqlite3 <control DB> 'PRAGMA wal_checkpoint(TRUNCATE)'`, %s",
            _SCRUB_ADVICE,
        )
