"""`ControlDB`: the engine (migrated on open) and its repositories."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import sqlalchemy as sa

from pinads.settings import AppSettings, load_settings
from pinads.state.api_tokens import ApiTokenRepository
from pinads.state.audit import AuditRepository
from pinads.state.authorizers import AuthorizerRepository
from pinads.state.db import create_control_engine
from pinads.state.login_failures import LoginFailureRepository
from pinads.state.migrations import migrate
from pinads.state.notifications import NotificationRepository
from pinads.state.plans import PlanRepository
from pinads.state.runs import RunRepository
from pinads.state.scheduling import ScheduleRepository
from pinads.state.sealing import CipherFactory, DestinationSealer, SecretCipher
from pinads.state.secretbox import SecretBox
from pinads.state.sources import SourceRepository
from pinads.state.users import UserRepository

__all__ = ["ControlDB", "open_control_db"]


class ControlDB:
    """The control database: `authorizers`, `sources`, `runs` (with run locks and backfill
    progress), `plans` (of backfill runs); the web's `users`, `api_tokens`, `login_failures`
    and `audit` log (web sessions: `WebSessionRepository` on `engine`, with the web's session
    limits). Migrated to the latest schema version when opened."""

    def __init__(self, engine: sa.Engine, *, cipher: CipherFactory | None = None) -> None:
        self.engine = engine
        self.version = migrate(engine, cipher=cipher)
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

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _secret_box(settings: AppSettings) -> CipherFactory:
    def make() -> SecretCipher:
        return SecretBox.from_settings(settings)

    return make


def open_control_db(settings: AppSettings | None = None, *, url: str | None = None) -> ControlDB:
    """Open (and migrate) the control DB of `settings` (default: the environment's), at `url`
    if given. Destination secrets are encrypted with the settings' secret key."""
    settings = settings or load_settings()
    cipher = _secret_box(settings)
    if url is not None:
        return ControlDB(create_control_engine(url=url), cipher=cipher)
    return ControlDB(create_control_engine(settings), cipher=cipher)
