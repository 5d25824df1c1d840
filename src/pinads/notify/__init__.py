"""Notifications: events (failed and empty runs, revoked and expiring authorizers) sent to
webhooks (JSON, HMAC-SHA256 signed, retried) and email (SMTP)."""

from pinads.notify.channels import (
    ALERT_KINDS,
    Channel,
    ChannelKind,
    EmailSettings,
    WebhookSettings,
)
from pinads.notify.dispatch import Delivery, deliver
from pinads.notify.email import EmailConfig, SmtpSecurity
from pinads.notify.events import Event, EventKind
from pinads.notify.service import KEEP_SECRET, Notifications
from pinads.notify.webhook import SIGNATURE_HEADER, WebhookConfig, signature

__all__ = [
    "ALERT_KINDS",
    "KEEP_SECRET",
    "SIGNATURE_HEADER",
    "Channel",
    "ChannelKind",
    "Delivery",
    "EmailConfig",
    "EmailSettings",
    "Event",
    "EventKind",
    "Notifications",
    "SmtpSecurity",
    "WebhookConfig",
    "WebhookSettings",
    "deliver",
    "signature",
]
