"""Saved sources and their run history in the control DB (any SQLAlchemy URL).

Tables `runner_sources`, `runner_runs` and `runner_locks` belong to the runner. A run lock is a
row keyed by source name, inserted in its own transaction (the primary key makes a second
concurrent insert fail, in another process too); a lock whose process is gone (same host, pid
not alive) is released by the next run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from pinads.errors import ConfigError, StateError
from pinads.runner.core import RunResult
from pinads.settings import AppSettings
from pinads.sources.config import SourceConfig

__all__ = ["RunRecord", "SourceStore"]

_META = sa.MetaData()
_SOURCES = sa.Table(
    "runner_sources",
    _META,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
_RUNS = sa.Table(
    "runner_runs",
    _META,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("range_start", sa.Date),
    sa.Column("range_end", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("rows_written", sa.BigInteger, nullable=False, default=0),
    sa.Column("api_calls", sa.Integer, nullable=False, default=0),
    sa.Column("rate_limited", sa.Integer, nullable=False, default=0),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("error", sa.Text),
)
_LOCKS = sa.Table(
    "runner_locks",
    _META,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)


class RunRecord(BaseModel):
    """One row of run history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source: str
    kind: str
    range_start: date | None
    range_end: date | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_written: int
    api_calls: int
    rate_limited: int
    duration_seconds: float | None
    error: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SourceStore:
    """Sources, runs and run locks; also the `RunLedger` the runner records into."""

    def __init__(self, settings: AppSettings) -> None:
        settings.ensure_home()
        self.engine = sa.create_engine(settings.control_db_url)
        _META.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- sources ---------------------------------------------------------------------------

    def save(self, config: SourceConfig, *, replace: bool = False) -> None:
        document = orjson.dumps(config.to_document()).decode()
        now = _now()
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(_SOURCES.c.name).where(_SOURCES.c.name == config.name)
            ).first()
            if exists and not replace:
                raise ConfigError(
                    f"a source named {config.name!r} exists: choose another name, or use "
                    f"`pinads sources edit {config.name}`"
                )
            if exists:
                conn.execute(
                    _SOURCES.update()
                    .where(_SOURCES.c.name == config.name)
                    .values(config=document, updated_at=now)
                )
            else:
                conn.execute(
                    _SOURCES.insert().values(
                        name=config.name, config=document, created_at=now, updated_at=now
                    )
                )

    def get(self, name: str) -> SourceConfig:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_SOURCES.c.config).where(_SOURCES.c.name == name)).first()
        if row is None:
            known = ", ".join(self.names()) or "none yet"
            raise ConfigError(
                f"no source named {name!r} (sources: {known}); create one with "
                "`pinads sources create`"
            )
        return SourceConfig.model_validate(orjson.loads(row[0]))

    def names(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(sa.select(_SOURCES.c.name).order_by(_SOURCES.c.name)).scalars()
            )

    def list(self) -> list[SourceConfig]:
        return [self.get(name) for name in self.names()]

    def delete(self, name: str) -> None:
        self.get(name)
        with self.engine.begin() as conn:
            conn.execute(_SOURCES.delete().where(_SOURCES.c.name == name))

    # -- runs (RunLedger) ------------------------------------------------------------------

    def begin(
        self, *, source: str, kind: str, run_id: str, start: date | None, end: date | None
    ) -> None:
        self._lock(source, run_id)
        with self.engine.begin() as conn:
            conn.execute(
                _RUNS.insert().values(
                    id=run_id,
                    source=source,
                    kind=kind,
                    range_start=start,
                    range_end=end,
                    status="running",
                    started_at=_now(),
                    rows_written=0,
                    api_calls=0,
                    rate_limited=0,
                )
            )

    def finish(self, run_id: str, *, result: RunResult | None, error: str | None) -> None:
        values: dict[str, Any] = {"finished_at": _now(), "status": "failed" if error else "ok"}
        if result is not None:
            values.update(
                rows_written=result.rows_written,
                api_calls=result.api_calls,
                rate_limited=result.rate_limited,
                duration_seconds=result.duration_seconds,
            )
        if error is not None:
            values["error"] = error
        with self.engine.begin() as conn:
            conn.execute(_RUNS.update().where(_RUNS.c.id == run_id).values(**values))
            conn.execute(_LOCKS.delete().where(_LOCKS.c.run_id == run_id))

    def runs(self, source: str | None = None, *, limit: int = 20) -> Sequence[RunRecord]:
        query = sa.select(_RUNS).order_by(_RUNS.c.started_at.desc()).limit(limit)
        if source is not None:
            query = query.where(_RUNS.c.source == source)
        with self.engine.connect() as conn:
            return [RunRecord.model_validate(dict(row._mapping)) for row in conn.execute(query)]

    def _lock(self, source: str, run_id: str) -> None:
        host, pid = socket.gethostname(), os.getpid()
        self._release_dead(source, host)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    _LOCKS.insert().values(
                        source=source, run_id=run_id, host=host, pid=pid, acquired_at=_now()
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise StateError(
                f"source {source!r} is already running (another run holds its lock); wait for "
                "it to finish - `pinads runs` shows it"
            ) from exc

    def _release_dead(self, source: str, host: str) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(_LOCKS).where(_LOCKS.c.source == source)).first()
            if row is None or row.host != host or _pid_alive(row.pid):
                return
            conn.execute(_LOCKS.delete().where(_LOCKS.c.source == source))
            conn.execute(
                _RUNS.update()
                .where(_RUNS.c.id == row.run_id)
                .values(status="failed", finished_at=_now(), error="the run's process died")
            )
