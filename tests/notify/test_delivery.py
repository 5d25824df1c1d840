"""Webhooks to a real loopback HTTP server and mail to a real SMTP server (aiosmtpd): signed
bodies, retries with backoff, timeouts, STARTTLS with certificate checks, SMTP AUTH."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from pydantic import SecretStr

from pinads.notify import (
    SIGNATURE_HEADER,
    Channel,
    EmailConfig,
    EmailSettings,
    Event,
    EventKind,
    SmtpSecurity,
    WebhookConfig,
    WebhookSettings,
    deliver,
)

from .conftest import SMTP_PASSWORD, SMTP_USER, Mailbox, WebhookReceiver

SECRET = "shared-secret-of-the-hook"
EVENT = Event(
    kind=EventKind.RUN_FAILED,
    at=datetime(2026, 12, 5, 6, 0, tzinfo=UTC),
    summary="run of shop failed: Pinterest answered 500",
    source="shop",
    authorizer="demo",
    details={"run_id": "r1", "error": "Pinterest answered 500"},
)


def _hook(url: str, **config: object) -> Channel:
    return Channel(
        name="ops-hook",
        settings=WebhookSettings(webhook=WebhookConfig(url=url, **config)),
        secret=SecretStr(SECRET),
    )


def _mail(box: Mailbox, security: SmtpSecurity, **config: object) -> Channel:
    return Channel(
        name="ops-mail",
        settings=EmailSettings(
            email=EmailConfig(
                host=box.host,
                port=box.port,
                security=security,
                sender="pinads@example.org",
                recipients=("ops@example.org", "oncall@example.org"),
                **config,
            )
        ),
        secret=SecretStr(SMTP_PASSWORD),
    )


def test_a_webhook_gets_the_signed_json_event(webhook_receiver: WebhookReceiver) -> None:
    waits: list[float] = []
    done = deliver(EVENT, [_hook(webhook_receiver.url)], sleep=waits.append)
    assert [d.ok for d in done] == [True] and waits == []
    [hook] = webhook_receiver.received
    assert json.loads(hook.body) == {
        "kind": "run.failed",
        "at": "2026-12-05T06:00:00Z",
        "summary": "run of shop failed: Pinterest answered 500",
        "source": "shop",
        "authorizer": "demo",
        "details": {"run_id": "r1", "error": "Pinterest answered 500"},
    }
    expected = hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
    assert hook.headers["x-pinads-event"] == "run.failed"
    assert hook.headers["content-type"] == "application/json"


def test_a_webhook_is_retried_with_backoff_on_5xx_and_429(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.statuses = [503, 429, 500]
    waits: list[float] = []
    done = deliver(EVENT, [_hook(webhook_receiver.url)], sleep=waits.append)
    assert done[0].ok
    assert len(webhook_receiver.received) == 4 and waits == [1.0, 2.0, 4.0]
    assert len({h.body for h in webhook_receiver.received}) == 1  # the same signed body


def test_a_webhook_refused_with_4xx_is_not_retried_and_gives_up_after_max_attempts(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.statuses = [401]
    waits: list[float] = []
    done = deliver(EVENT, [_hook(webhook_receiver.url)], sleep=waits.append)
    assert done[0].problem == "HTTP 401" and len(webhook_receiver.received) == 1
    webhook_receiver.statuses = [502] * 10
    done = deliver(EVENT, [_hook(webhook_receiver.url, max_attempts=3)], sleep=waits.append)
    assert done[0].problem == "HTTP 502" and len(webhook_receiver.received) == 4
    assert waits == [1.0, 2.0]


def test_a_slow_webhook_times_out_and_is_retried(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.delay_seconds = 1.0
    waits: list[float] = []
    hook = _hook(webhook_receiver.url, timeout_seconds=0.2, max_attempts=2)
    done = deliver(EVENT, [hook], sleep=waits.append)
    assert done[0].problem is not None and done[0].problem.startswith("ReadTimeout")
    assert len(webhook_receiver.received) == 2 and waits == [1.0]


def test_an_unreachable_webhook_is_reported_not_raised() -> None:
    waits: list[float] = []
    done = deliver(EVENT, [_hook("http://127.0.0.1:1/none", max_attempts=2)], sleep=waits.append)
    assert done[0].problem is not None and done[0].problem.startswith("ConnectError")


def test_mail_over_plain_smtp_with_auth(mailbox: Mailbox) -> None:
    done = deliver(
        EVENT, [_mail(mailbox, SmtpSecurity.NONE, username=SMTP_USER)], sleep=lambda _: None
    )
    assert done[0].ok, done
    [message] = mailbox.messages
    assert message["Subject"] == "[pinads] run of shop failed: Pinterest answered 500"
    assert message["From"] == "pinads@example.org"
    assert message["To"] == "ops@example.org, oncall@example.org"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode().replace("\r\n", "\n")
    assert "event: run.failed\nat: 2026-12-05T06:00:00+00:00\nsource: shop\n" in text
    assert mailbox.envelopes == [("pinads@example.org", ["ops@example.org", "oncall@example.org"])]
    assert mailbox.logins == [SMTP_USER]


def test_mail_with_starttls_checks_the_certificate(tls_mailbox: Mailbox) -> None:
    channel = _mail(tls_mailbox, SmtpSecurity.STARTTLS, username=SMTP_USER)
    done = deliver(EVENT, [channel], sleep=lambda _: None)
    assert done[0].ok, done
    assert len(tls_mailbox.messages) == 1 and tls_mailbox.logins == [SMTP_USER]
    # The same server reached by an address its certificate does not name: refused, unsent.
    wrong_name = Mailbox(host="127.0.0.1", port=tls_mailbox.port)
    waits: list[float] = []
    refused = deliver(EVENT, [_mail(wrong_name, SmtpSecurity.STARTTLS)], sleep=waits.append)
    assert refused[0].problem is not None
    assert refused[0].problem.startswith("SSLCertVerificationError"), refused
    assert "IP address mismatch" in refused[0].problem
    assert len(tls_mailbox.messages) == 1


def test_a_wrong_smtp_password_is_a_permanent_failure(mailbox: Mailbox) -> None:
    channel = _mail(mailbox, SmtpSecurity.NONE, username="intruder")
    waits: list[float] = []
    done = deliver(EVENT, [channel], sleep=waits.append)
    assert done[0].problem is not None and done[0].problem.startswith("SMTP 535")
    assert waits == [] and mailbox.messages == []


def test_channels_get_only_the_events_and_sources_they_want(
    webhook_receiver: WebhookReceiver,
) -> None:
    only_other = _hook(webhook_receiver.url).model_copy(update={"source": "other"})
    only_expiry = _hook(webhook_receiver.url).model_copy(
        update={"name": "expiry", "events": frozenset({EventKind.AUTHORIZER_EXPIRING})}
    )
    assert deliver(EVENT, [only_other, only_expiry], sleep=lambda _: None) == []
    assert webhook_receiver.received == []
