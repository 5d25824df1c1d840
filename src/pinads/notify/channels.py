"""Notification channels: where events go (a webhook or an email), for which events, for all
sources or one."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pinads.notify.email import EmailConfig
from pinads.notify.events import EventKind
from pinads.notify.webhook import WebhookConfig

__all__ = ["ALERT_KINDS", "Channel", "ChannelKind", "EmailSettings", "WebhookSettings"]

# What a channel gets unless told otherwise: every alert (not `test`, which targets one).
ALERT_KINDS: frozenset[EventKind] = frozenset(EventKind) - {EventKind.TEST}


class ChannelKind(enum.StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal[ChannelKind.WEBHOOK] = ChannelKind.WEBHOOK
    webhook: WebhookConfig


class EmailSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal[ChannelKind.EMAIL] = ChannelKind.EMAIL
    email: EmailConfig


Settings = Annotated[WebhookSettings | EmailSettings, Field(discriminator="kind")]


class Channel(BaseModel):
    """A saved channel. `secret` (the webhook's signing secret or the SMTP password) is
    decrypted only to deliver; what is shown or returned has `has_secret` instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
    source: str | None = Field(default=None, description="Only this source's events; None: all.")
    events: frozenset[EventKind] = ALERT_KINDS
    settings: Settings
    secret: SecretStr | None = Field(default=None, exclude=True)

    @property
    def kind(self) -> ChannelKind:
        return self.settings.kind

    def wants(self, kind: EventKind, source: str | None) -> bool:
        """Whether an event of `kind` about `source` goes to this channel."""
        if kind not in self.events:
            return False
        return self.source is None or source is None or self.source == source
