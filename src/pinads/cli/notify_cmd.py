"""`pinads notify list|add-webhook|add-email|remove|test`: where alerts go.

Secrets (a webhook's signing secret, an SMTP password) are read from stdin or a hidden prompt,
never from a flag (flags show in `ps` and shell history), and are stored encrypted."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pinads.errors import ConfigError
from pinads.notify import (
    ALERT_KINDS,
    Channel,
    EmailConfig,
    EmailSettings,
    Event,
    EventKind,
    Notifications,
    SmtpSecurity,
    WebhookConfig,
    WebhookSettings,
    deliver,
)

__all__ = ["register"]

notify_app = typer.Typer(help="Notification channels (webhooks and email).", no_args_is_help=True)

SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only this source's alerts (default: all).")
]
EventsOpt = Annotated[
    list[EventKind] | None,
    typer.Option(
        "--event",
        help="An alert to send (repeat the flag; default all): run.failed, run.empty, "
        "authorizer.revoked, authorizer.expiring.",
    ),
]


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _secret(from_stdin: bool, prompt: str) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n") or None
    value: str = typer.prompt(f"{prompt} (empty for none)", hide_input=True, default="")
    return value or None


def _events(events: list[EventKind] | None) -> frozenset[EventKind]:
    chosen = frozenset(events or ALERT_KINDS)
    if EventKind.TEST in chosen:
        raise ConfigError("`test` is not an alert: `pinads notify test NAME` sends one")
    return chosen


def _save(channel: Channel, secret: str | None) -> None:
    with Notifications() as notes:
        created = notes.save(channel, secret=secret)
    verb = "added" if created else "replaced"
    scope = f"source {channel.source}" if channel.source else "every source"
    _out().print(f"{verb} {channel.kind.value} channel [bold]{escape(channel.name)}[/] ({scope})")


@notify_app.command("add-webhook")
def add_webhook(  # noqa: PLR0917 - one parameter per Typer option
    name: Annotated[str, typer.Argument(help="A name for the channel, e.g. ops.")],
    url: Annotated[str, typer.Option("--url", help="The receiver's http(s) URL.")],
    source: SourceOpt = None,
    events: EventsOpt = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the signing secret from stdin.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per attempt.")] = 10.0,
    attempts: Annotated[int, typer.Option("--attempts", help="Tries before giving up.")] = 4,
) -> None:
    """Add (or replace) a webhook: JSON POSTs signed with HMAC-SHA256 of a shared secret."""
    settings = WebhookSettings(
        webhook=WebhookConfig(url=url, timeout_seconds=timeout, max_attempts=attempts)
    )
    channel = Channel(name=name, source=source, events=_events(events), settings=settings)
    _save(channel, _secret(secret_stdin, "Signing secret"))


@notify_app.command("add-email")
def add_email(  # noqa: PLR0917 - one parameter per Typer option
    name: Annotated[str, typer.Argument(help="A name for the channel, e.g. oncall.")],
    host: Annotated[str, typer.Option("--host", help="SMTP server.")],
    sender: Annotated[str, typer.Option("--from", help="The sender address.")],
    recipients: Annotated[list[str], typer.Option("--to", help="A recipient (repeatable).")],
    port: Annotated[int, typer.Option("--port")] = 587,
    security: Annotated[SmtpSecurity, typer.Option("--security")] = SmtpSecurity.STARTTLS,
    username: Annotated[str | None, typer.Option("--username", help="SMTP login.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the SMTP password from stdin.")
    ] = False,
    source: SourceOpt = None,
    events: EventsOpt = None,
) -> None:
    """Add (or replace) an email channel over SMTP (STARTTLS by default)."""
    config = EmailConfig(
        host=host,
        port=port,
        security=security,
        username=username,
        sender=sender,
        recipients=tuple(recipients),
    )
    channel = Channel(
        name=name, source=source, events=_events(events), settings=EmailSettings(email=config)
    )
    password = _secret(password_stdin, "SMTP password") if username else None
    _save(channel, password)


@notify_app.command("list")
def list_channels() -> None:
    """The channels (secrets shown as ***)."""
    with Notifications() as notes:
        channels = notes.channels()
    if not channels:
        _out().print("no channels: add one with `pinads notify add-webhook` or `add-email`")
        return
    table = Table(title="notification channels", title_justify="left")
    for column in ("name", "kind", "where", "source", "events", "secret"):
        table.add_column(column, overflow="fold")
    for c in channels:
        settings = c.settings
        where = (
            settings.webhook.url
            if isinstance(settings, WebhookSettings)
            else f"{', '.join(settings.email.recipients)} via {settings.email.host}"
        )
        table.add_row(
            escape(c.name),
            c.kind.value,
            escape(where),
            escape(c.source or "all"),
            ", ".join(sorted(e.value for e in c.events)),
            "***" if c.secret is not None else "-",
        )
    _out().print(table)


@notify_app.command("remove")
def remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a channel."""
    with Notifications() as notes:
        if not notes.delete(name):
            raise ConfigError(f"no channel {name!r}: see `pinads notify list`")
    _out().print(f"removed channel {escape(name)}")


@notify_app.command("test")
def test(name: Annotated[str, typer.Argument()]) -> None:
    """Send a test event to one channel; exit 1 when it does not arrive."""
    with Notifications() as notes:
        found = {c.name: c for c in notes.channels(with_secrets=True)}.get(name)
        if found is None:
            raise ConfigError(f"no channel {name!r}: see `pinads notify list`")
        event = Event(
            kind=EventKind.TEST,
            at=datetime.now(UTC),
            summary=f"test of the pinads channel {name}",
        )
        channel = found.model_copy(update={"events": frozenset({EventKind.TEST})})
        [delivery] = deliver(event, [channel], transport=notes.transport, sleep=notes.sleep)
    if not delivery.ok:
        _out().print(f"[red]not delivered[/] to {escape(name)}: {escape(delivery.problem or '')}")
        raise typer.Exit(1)
    _out().print(f"delivered a test event to {escape(name)}")


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
