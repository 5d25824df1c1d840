"""Sending an event to every channel that wants it. Delivery never fails the caller: a
channel that cannot be reached is logged and reported, and the others still get the event."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from pinads.errors import redact
from pinads.notify.channels import Channel, EmailSettings, WebhookSettings
from pinads.notify.email import send_email
from pinads.notify.events import Event
from pinads.notify.webhook import send_webhook

__all__ = ["Delivery", "deliver"]

log = logging.getLogger("pinads.notify")
_EMAIL_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    problem: str | None  # None: delivered

    @property
    def ok(self) -> bool:
        return self.problem is None


def _email(
    channel: Channel, settings: EmailSettings, event: Event, sleep: Callable[[float], None]
) -> str | None:
    problem = "not sent"
    for attempt in range(1, _EMAIL_ATTEMPTS + 1):
        if attempt > 1:
            sleep(2.0 ** (attempt - 2))
        try:
            send_email(settings.email, event, password=channel.secret)
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error
            text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
            problem = f"SMTP {exc.smtp_code}: {redact(text)}"
            if 500 <= exc.smtp_code < 600:  # permanent: the server refused (auth, recipient)
                break
        except (OSError, smtplib.SMTPException) as exc:
            problem = f"{type(exc).__name__}: {redact(str(exc))}"
        else:
            return None
    log.warning("email channel %s failed: %s", channel.name, problem)
    return problem


def _one(
    channel: Channel,
    event: Event,
    *,
    transport: httpx.BaseTransport | None,
    sleep: Callable[[float], None],
) -> str | None:
    settings = channel.settings
    if isinstance(settings, WebhookSettings):
        return send_webhook(
            settings.webhook, event, secret=channel.secret, transport=transport, sleep=sleep
        )
    return _email(channel, settings, event, sleep)


def deliver(
    event: Event,
    channels: Sequence[Channel],
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send `event` to the channels that want it; one Delivery per channel tried."""
    done = []
    for channel in channels:
        if not channel.wants(event.kind, event.source):
            continue
        problem = _one(channel, event, transport=transport, sleep=sleep)
        log.info(
            "notified %s of %s: %s",
            channel.name,
            event.kind.value,
            problem or "delivered",
            extra={"channel": channel.name, "event": event.kind.value, "source": event.source},
        )
        done.append(Delivery(channel.name, problem))
    return done
