"""`ControlDB`: the process's engine for the control DB and its repositories.

`open_control_db` is cheap after the first call of a process: the engine is shared (one per
URL, `control_engine`), and the schema is brought to the newest revision once per database
and process (again only if the SQLite file was replaced).
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from pinads.settings import AppSettings, load_settings
from pinads.state.api_tokens import ApiTokenRepository
from pinads.state.audit import AuditRepository
from pinads.state.authorizers import AuthorizerRepository
from pinads.state.db import control_engine, file_identity
from pinads.state.login_failures import LoginFailureRepository
from pinads.state.migrations import current_revisions, upgrade
from pinads.state.notifications import NotificationRepository
from pinads.state.plans import PlanRepository
from pinads.state.runs import RunRepository
from pinads.state.scheduling import ScheduleRepository
from pinads.state.sealing import CipherFactory, DestinationSealer, SecretCipher
from pinads.state.secretbox import SecretBox
from pinads.state.sources import SourceRepository
from pinads.state.users import UserRepository

__all__ = ["ControlDB", "ensure_schema", "open_control_db", "secret_cipher"]

log = logging.getLogger(__name__)
# The databases this process has brought to the newest revision: (URL, SQLite file identity).
_ready: set[tuple[str, tuple[int, int] | None]] = set()
_ready_lock = threading.Lock()


class ControlDB:
    """The control database: `authorizers`, `sources`, `runs` (with run locks and backfill
    progress), `plans` (of backfill runs); the web's `users`, `api_tokens`, `login_failures`
    and `audit` log (web sessions: `WebSessionRepository` on `engine`, with the web's session
    limits). `open_control_db` opens it at the newest schema revision."""

    def __init__(self, engine: sa.Engine, *, cipher: CipherFactory | None = None) -> None:
        self.engine = engine
        self.authorizers = AuthorizerRepository(engine)
        self.sources = SourceRepository(engine, DestinationSealer(cipher))
        self.runs = RunRepository(engine)
        self.plans = PlanRepository(engine)
        self.schedule = ScheduleRepository(engine)
        self.users = UserRepository(engine)
        self.api_tokens = ApiTokenRepository(engine)
        self.login_failures = LoginFailureRepository(engine)
        self.audit = AuditRepository(engine)
        self.notifications = NotificationRepository(engine)

    @property
    def revision(self) -> str:
        """The schema revision the database is at (Alembic's)."""
        with self.engine.connect() as conn:
            return "+".join(current_revisions(conn)) or "none"

    def close(self) -> None:
        """Nothing to release: the engine is the process's, its connections are pooled for
        the next `open_control_db` and closed at exit (`pinads.state.db.dispose_engines`)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def secret_cipher(settings: AppSettings) -> CipherFactory:
    """The installation's secret key, opened on first use (no key file made until needed)."""

    def make() -> SecretCipher:
        return SecretBox.from_settings(settings)

    return make


def _ready_key(engine: sa.Engine) -> tuple[str, tuple[int, int] | None]:
    url = engine.url
    database = url.database if url.get_backend_name() == "sqlite" else None
    return str(url), file_identity(database) if database else None


def ensure_schema(engine: sa.Engine, *, cipher: CipherFactory | None = None) -> None:
    """Bring the database to the newest revision, once per process (see `migrations`;
    `cipher` seals the destination passwords of a wave-1 database)."""
    if _ready_key(engine) in _ready:
        return
    with _ready_lock:
        if _ready_key(engine) in _ready:
            return
        done = upgrade(engine, cipher=cipher)
        if done.before is None:
            log.info("created the control DB %s (schema %s)", engine.url, done.after)
        elif done.changed:
            log.warning(
                "upgraded the control DB %s: schema %s -> %s", engine.url, done.before, done.after
            )
        _ready.add(_ready_key(engine))


def open_control_db(settings: AppSettings | None = None, *, url: str | None = None) -> ControlDB:
    """The control DB of `settings` (default: the environment's), at `url` if given, at the
    newest schema revision. Destination secrets are encrypted with the settings' secret key."""
    settings = settings or load_settings()
    engine = control_engine(settings, url=url)
    cipher = secret_cipher(settings)
    ensure_schema(engine, cipher=cipher)
    return ControlDB(engine, cipher=cipher)
