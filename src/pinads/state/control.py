"""`ControlDB`: the engine (migrated on open) and its repositories."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import sqlalchemy as sa

from pinads.settings import AppSettings, load_settings
from pinads.state.authorizers import AuthorizerRepository
from pinads.state.db import create_control_engine
from pinads.state.migrations import migrate
from pinads.state.plans import PlanRepository
from pinads.state.runs import RunRepository
from pinads.state.sources import SourceRepository

__all__ = ["ControlDB", "open_control_db"]


class ControlDB:
    """The control database: `authorizers`, `sources`, `runs` (with run locks and backfill
    progress), `plans` (of backfill runs). Migrated to the latest schema version when opened."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.version = migrate(engine)
        self.authorizers = AuthorizerRepository(engine)
        self.sources = SourceRepository(engine)
        self.runs = RunRepository(engine)
        self.plans = PlanRepository(engine)

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


def open_control_db(settings: AppSettings | None = None, *, url: str | None = None) -> ControlDB:
    """Open (and migrate) the control DB of `settings` (default: the environment's)."""
    if url is not None:
        return ControlDB(create_control_engine(url=url))
    return ControlDB(create_control_engine(settings or load_settings()))
