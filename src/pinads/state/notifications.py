"""Notification channels and the record of alerts already sent, in the control DB.

A channel's settings are JSON without secrets; its secret (a webhook's signing secret, an SMTP
password) is a Fernet ciphertext (`SecretBox`), like tokens. `sent` keys make an alert that
every scheduler check would find again (an expiring refresh token) go out once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pinads.errors import ConfigError
from pinads.state.db import utc_now
from pinads.state.schema import NOTIFICATION_CHANNELS, NOTIFICATIONS_SENT, SOURCES

__all__ = ["ChannelRecord", "NotificationRepository"]


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    name: str
    source: str | None
    events: tuple[str, ...]
    settings: dict[str, Any]
    secret_enc: str | None


class NotificationRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def channels(self) -> list[ChannelRecord]:
        query = (
            sa.select(NOTIFICATION_CHANNELS, SOURCES.c.name.label("source_name"))
            .select_from(
                NOTIFICATION_CHANNELS.outerjoin(
                    SOURCES, SOURCES.c.id == NOTIFICATION_CHANNELS.c.source_id
                )
            )
            .order_by(NOTIFICATION_CHANNELS.c.name)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ChannelRecord(
                name=r.name,
                source=r.source_name,
                events=tuple(e for e in r.events.split(",") if e),
                settings=dict(r.settings),
                secret_enc=r.secret_enc,
            )
            for r in rows
        ]

    def save(self, record: ChannelRecord) -> bool:
        """Create or replace channel `record.name`; True when created."""
        with self._engine.begin() as conn:
            values: dict[str, Any] = {
                "events": ",".join(sorted(record.events)),
                "settings": record.settings,
                "secret_enc": record.secret_enc,
                "updated_at": utc_now(),
                "source_id": self._source_id(conn, record.source),
            }
            table = NOTIFICATION_CHANNELS
            found = conn.execute(sa.select(table.c.id).where(table.c.name == record.name))
            if found.first() is None:
                conn.execute(
                    table.insert().values(name=record.name, created_at=utc_now(), **values)
                )
                return True
            conn.execute(table.update().where(table.c.name == record.name).values(values))
            return False

    @staticmethod
    def _source_id(conn: sa.Connection, source: str | None) -> int | None:
        if source is None:
            return None
        found = conn.execute(sa.select(SOURCES.c.id).where(SOURCES.c.name == source)).first()
        if found is None:
            raise ConfigError(
                f"no source named {source!r}: a channel for one source needs a saved source"
            )
        return int(found.id)

    def delete(self, name: str) -> bool:
        with self._engine.begin() as conn:
            deleted = conn.execute(
                NOTIFICATION_CHANNELS.delete().where(NOTIFICATION_CHANNELS.c.name == name)
            )
        return bool(deleted.rowcount)

    def first_time(self, key: str) -> bool:
        """Record alert `key` as sent; False when it was already (by any process)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(NOTIFICATIONS_SENT.insert().values(key=key[:200], sent_at=utc_now()))
        except sa.exc.IntegrityError:
            return False
        return True
