"""Sources in the control DB: the config document (validated by pinads.sources before it gets
here; schedule fields live inside it) and the authorizer it uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from pinads.errors import ConfigError
from pinads.state.db import inserted_id, utc_now
from pinads.state.records import SourceRecord
from pinads.state.schema import BACKFILL_PROGRESS, RUN_LOCKS, RUN_PLANS, RUNS, SOURCES

__all__ = ["SourceRepository"]


class SourceRepository:
    """All access to the `sources` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def create(
        self, name: str, config: Mapping[str, Any], *, authorizer_id: int | None
    ) -> SourceRecord:
        now = utc_now()
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    SOURCES.insert().values(
                        name=name,
                        config=dict(config),
                        authorizer_id=authorizer_id,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise ConfigError(
                f"a source named {name!r} exists (or its authorizer {authorizer_id} does not): "
                "choose another name, or edit the existing source"
            ) from exc
        return self.get(inserted_id(result))

    def get(self, name_or_id: str | int) -> SourceRecord:
        key = str(name_or_id)
        condition = SOURCES.c.id == int(key) if key.isdigit() else SOURCES.c.name == key
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(SOURCES).where(condition)).first()
        if row is None:
            known = ", ".join(r.name for r in self.all()) or "none yet"
            raise ConfigError(
                f"no source {key!r} (sources: {known}); create one with `pinads sources create`"
            )
        return SourceRecord.model_validate(dict(row._mapping))

    def all(self) -> list[SourceRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(SOURCES).order_by(SOURCES.c.name)).all()
        return [SourceRecord.model_validate(dict(row._mapping)) for row in rows]

    def update(
        self, name: str, config: Mapping[str, Any], *, authorizer_id: int | None
    ) -> SourceRecord:
        record = self.get(name)
        with self._engine.begin() as conn:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.id == record.id)
                .values(config=dict(config), authorizer_id=authorizer_id, updated_at=utc_now())
            )
        return self.get(record.id)

    def delete(self, name: str) -> None:
        """Delete a source with its run history, locks and plans, in one transaction. Done
        here rather than by foreign keys: databases made before schema version 4 have none."""
        record = self.get(name)
        runs = sa.select(RUNS.c.id).where(RUNS.c.source_id == record.id)
        with self._engine.begin() as conn:
            conn.execute(RUN_PLANS.delete().where(RUN_PLANS.c.run_id.in_(runs)))
            for table in (BACKFILL_PROGRESS, RUN_LOCKS, RUNS):
                conn.execute(table.delete().where(table.c.source_id == record.id))
            conn.execute(SOURCES.delete().where(SOURCES.c.id == record.id))
