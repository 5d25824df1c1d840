"""Sources in the control DB: the config document (validated by pinads.sources before it gets
here; schedule fields live inside it) and the authorizer it uses.

The destination's secrets never reach `config`: it keeps the URL redacted and the clear URL is
encrypted beside it (`pinads.state.sealing`). An update that sends the redacted URL back keeps
the stored secrets (same server and user only, `pinads.secret_urls.restore_secrets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from pinads.errors import ConfigError
from pinads.secret_urls import restore_secrets
from pinads.state.db import inserted_id, utc_now
from pinads.state.records import SourceRecord
from pinads.state.schema import (
    BACKFILL_PROGRESS,
    RUN_LOCKS,
    RUN_PLANS,
    RUNS,
    SLOT_CLAIMS,
    SOURCES,
)
from pinads.state.sealing import DestinationSealer

__all__ = ["SourceRepository"]


class SourceRepository:
    """All access to the `sources` table."""

    def __init__(self, engine: sa.Engine, sealer: DestinationSealer | None = None) -> None:
        self._engine = engine
        self._sealer = sealer or DestinationSealer(None)

    def _sealed(
        self, config: Mapping[str, Any], previous: str | None
    ) -> tuple[dict[str, Any], str | None]:
        """The config to store and its destination's ciphertext; `***` in the destination
        takes the secret of `previous` (the stored clear URL; None for a new source)."""
        document = dict(config)
        if isinstance(document.get("destination"), str):
            document["destination"] = restore_secrets(document["destination"], previous)
        return self._sealer.seal(document)

    def create(
        self, name: str, config: Mapping[str, Any], *, authorizer_id: int | None
    ) -> SourceRecord:
        now = utc_now()
        shown, sealed = self._sealed(config, None)
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    SOURCES.insert().values(
                        name=name,
                        config=shown,
                        destination_enc=sealed,
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
        shown, sealed = self._sealed(config, self.destination(record))
        with self._engine.begin() as conn:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.id == record.id)
                .values(
                    config=shown,
                    destination_enc=sealed,
                    authorizer_id=authorizer_id,
                    updated_at=utc_now(),
                )
            )
        return self.get(record.id)

    def destination(self, record: SourceRecord) -> str:
        """The source's clear destination URL (secrets decrypted): for connecting only."""
        return self._sealer.destination(record.config, record.destination_enc, source=record.name)

    def resolve_destination(self, name: str, url: str) -> str:
        """`url` with any `***` taking the stored secret of source `name` (if it exists): what
        an update would store, for checks made before saving."""
        try:
            record = self.get(name)
        except ConfigError:
            return restore_secrets(url, None)
        return restore_secrets(url, self.destination(record))

    def delete(self, name: str) -> None:
        """Delete a source with its run history, locks and plans, in one transaction. Done
        here rather than by foreign keys: databases made before schema version 4 have none."""
        record = self.get(name)
        runs = sa.select(RUNS.c.id).where(RUNS.c.source_id == record.id)
        with self._engine.begin() as conn:
            conn.execute(RUN_PLANS.delete().where(RUN_PLANS.c.run_id.in_(runs)))
            for table in (BACKFILL_PROGRESS, RUN_LOCKS, RUNS, SLOT_CLAIMS):
                conn.execute(table.delete().where(table.c.source_id == record.id))
            conn.execute(SOURCES.delete().where(SOURCES.c.id == record.id))
