"""Channels saved in the control DB, and the alerts pinads raises from what it sees there.

`Notifications(settings)` reads the channels (secrets decrypted only here, to deliver) and
sends events; `check_authorizers` raises each dead or expiring authorizer's alert once (the
scheduler calls it at every check, the CLI and the web after a revocation).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr, TypeAdapter

from pinads.auth import REFRESH_WARNING, dead_reason
from pinads.notify.channels import Channel, Settings
from pinads.notify.dispatch import Delivery, deliver
from pinads.notify.events import Event, EventKind, authorizer_dead, authorizer_expiring
from pinads.settings import AppSettings, load_settings
from pinads.state import AuthorizerRecord, ControlDB, SecretBox, open_control_db
from pinads.state.notifications import ChannelRecord

__all__ = ["KEEP_SECRET", "Notifications"]

_SETTINGS = TypeAdapter[Settings](Settings)
KEEP_SECRET = "***"  # noqa: S105 - a mask, not a secret; sent back as a secret: keep the saved one (as forms show it)


class Notifications:
    """The control DB's channels; `send` delivers an event to those that want it."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or load_settings()
        self.db: ControlDB = open_control_db(self.settings)
        self.transport = transport
        self.sleep = sleep
        self._box: SecretBox | None = None

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.from_settings(self.settings)
        return self._box

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- channels ----------------------------------------------------------------------------

    def channels(self, *, with_secrets: bool = False) -> builtins.list[Channel]:
        return [self._channel(r, with_secrets) for r in self.db.notifications.channels()]

    def _channel(self, record: ChannelRecord, with_secrets: bool) -> Channel:
        secret = None
        if record.secret_enc is not None:
            secret = self.box.decrypt(record.secret_enc) if with_secrets else SecretStr("")
        return Channel(
            name=record.name,
            source=record.source,
            events=frozenset(EventKind(e) for e in record.events),
            settings=_SETTINGS.validate_python(record.settings),
            secret=secret,
        )

    def save(self, channel: Channel, *, secret: str | None) -> bool:
        """Create or replace a channel; `secret` None: none, `***`: keep the saved one."""
        if secret == KEEP_SECRET:
            saved = {r.name: r for r in self.db.notifications.channels()}.get(channel.name)
            secret_enc = saved.secret_enc if saved is not None else None
        else:
            secret_enc = self.box.encrypt(secret) if secret else None
        return self.db.notifications.save(
            ChannelRecord(
                name=channel.name,
                source=channel.source,
                events=tuple(sorted(e.value for e in channel.events)),
                settings=channel.settings.model_dump(mode="json"),
                secret_enc=secret_enc,
            )
        )

    def delete(self, name: str) -> bool:
        return self.db.notifications.delete(name)

    # -- sending -----------------------------------------------------------------------------

    def send(self, event: Event, *, once: str | None = None) -> builtins.list[Delivery]:
        """Deliver `event`; with `once`, only the first time any process sends that key."""
        records = self.db.notifications.channels()
        if not records:
            return []
        if once is not None and not self.db.notifications.first_time(once):
            return []
        channels = [self._channel(r, True) for r in records]
        return deliver(event, channels, transport=self.transport, sleep=self.sleep)

    def check_authorizers(self, *, now: datetime) -> builtins.list[Delivery]:
        """Each dead or expiring authorizer's alert, once per death or expiry date."""
        if not self.db.notifications.channels():
            return []
        sent = []
        for record in self.db.authorizers.all():
            alert = self._alert(record, now=now)
            if alert is not None:
                sent += self.send(alert[1], once=alert[0])
        return sent

    def _alert(self, record: AuthorizerRecord, *, now: datetime) -> tuple[str, Event] | None:
        expires = record.refresh_expires_at
        sources = self.db.authorizers.used_by(record.id)
        why = dead_reason(revoked=record.is_revoked, refresh_expires_at=expires, now=now)
        if why is not None:
            since = record.revoked_at or expires or record.updated_at
            key = f"authorizer.dead:{record.id}:{since.isoformat()}"
            return key, authorizer_dead(label=record.label, why=why, sources=sources, at=now)
        if expires is not None and expires - REFRESH_WARNING <= now:
            key = f"authorizer.expiring:{record.id}:{expires.date().isoformat()}"
            event = authorizer_expiring(
                label=record.label, expires_at=expires, sources=sources, at=now
            )
            return key, event
        return None
