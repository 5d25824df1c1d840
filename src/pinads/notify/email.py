"""Email delivery over SMTP (smtplib and email from the standard library)."""

from __future__ import annotations

import enum
import smtplib
import ssl
from email.message import EmailMessage

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pinads.notify.events import Event

__all__ = ["EmailConfig", "SmtpSecurity", "message_for", "send_email"]


class SmtpSecurity(enum.StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # a relay on this machine or a trusted network only


class EmailConfig(BaseModel):
    """An SMTP server and who gets the mail (the password is stored apart, encrypted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = Field(default=None, max_length=255)
    sender: str = Field(min_length=3, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    recipients: tuple[str, ...] = Field(min_length=1, max_length=50)
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)


def message_for(config: EmailConfig, event: Event) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[pinads] {event.summary}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    lines = [event.summary, "", f"event: {event.kind.value}", f"at: {event.at.isoformat()}"]
    lines += [f"source: {event.source}"] if event.source else []
    lines += [f"authorizer: {event.authorizer}"] if event.authorizer else []
    lines += [f"{key}: {value}" for key, value in event.details.items()]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(config: EmailConfig, event: Event, *, password: SecretStr | None) -> None:
    """Send `event` as a plain-text mail; smtplib's errors (OSError, SMTPException) raise."""
    message = message_for(config, event)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.security is SmtpSecurity.TLS:
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout_seconds, context=context
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
    with smtp:
        smtp.ehlo()
        if config.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username and password is not None:
            smtp.login(config.username, password.get_secret_value())
        smtp.send_message(message)
