"""Alerts end to end: channels saved with `pinads notify` (secrets encrypted, shown as ***),
then real runs, revocations and scheduler checks deliver to a loopback webhook receiver and an
aiosmtpd server."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from pinads.auth import AuthorizerService
from pinads.auth.tokens import seal_tokens, tokens_of
from pinads.cli import app
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.runner.alerts import watch_authorizers
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.state.schema import NOTIFICATION_CHANNELS

from .conftest import SMTP_PASSWORD, SMTP_USER, Mailbox, WebhookReceiver

SECRET = "hook-secret-7f3a"
FJORD = "549755813007"  # Fjord Design Studio: no keywords in the emulator's world (seed 7)


def pinads(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), f"{result.output}{result.exception}"
    return result.exit_code, result.output


def _events(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    found = []
    for hook in receiver.received:
        digest = hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hook.headers["x-pinads-signature-256"] == f"sha256={digest}"
        found.append(json.loads(hook.body))
    return found


def _source(tmp_path: Path, name: str, **extra: object) -> None:
    path = tmp_path / f"{name}.yaml"
    document = {
        "name": name,
        "dataset": "campaigns",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
        **extra,
    }
    path.write_text(yaml.safe_dump(document))
    code, out = pinads("sources", "create", "--file", str(path))
    assert code == 0, out


def _hook(receiver: WebhookReceiver, *extra: str) -> None:
    code, out = pinads(
        "notify", "add-webhook", "ops", "--url", receiver.url, "--secret-stdin", *extra,
        stdin=f"{SECRET}\n",
    )  # fmt: skip
    assert code == 0 and "added webhook channel ops (every source)" in out, out


def test_channels_keep_their_secrets_encrypted_and_show_them_as_stars(
    webhook_receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    _hook(webhook_receiver)
    code, out = pinads(
        "notify", "add-email", "oncall", "--host", mailbox.host, "--port", str(mailbox.port),
        "--security", "none", "--username", SMTP_USER, "--password-stdin",
        "--from", "pinads@example.org", "--to", "ops@example.org",
        "--event", "authorizer.revoked", "--event", "authorizer.expiring",
        stdin=f"{SMTP_PASSWORD}\n",
    )  # fmt: skip
    assert code == 0, out
    code, out = pinads("notify", "list")
    assert code == 0 and SECRET not in out and SMTP_PASSWORD not in out
    assert out.count("***") == 2
    assert "authorizer.expiring, authorizer.revoked" in out
    with open_control_db() as db, db.engine.connect() as conn:
        stored = conn.execute(sa.select(NOTIFICATION_CHANNELS.c.secret_enc)).scalars().all()
    assert len(stored) == 2 and all(
        s and SECRET not in s and SMTP_PASSWORD not in s for s in stored
    )

    assert pinads("notify", "test", "ops") == (0, "delivered a test event to ops\n")
    assert pinads("notify", "test", "oncall")[0] == 0
    [test] = _events(webhook_receiver)
    assert test["kind"] == "test" and test["summary"] == "test of the pinads channel ops"
    assert mailbox.messages[0]["Subject"] == "[pinads] test of the pinads channel oncall"
    assert mailbox.logins == [SMTP_USER]

    assert pinads("notify", "remove", "oncall")[0] == 0
    code, out = pinads("notify", "test", "oncall")
    assert code == 2 and "no channel 'oncall'" in out


def test_a_failed_run_and_the_dead_authorizer_are_notified_once(
    authorizer: str,
    emulator_server: EmulatorServer,
    webhook_receiver: WebhookReceiver,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    _source(tmp_path, "shop")
    _hook(webhook_receiver)
    code, _ = pinads(
        "notify", "add-email", "oncall", "--host", mailbox.host, "--port", str(mailbox.port),
        "--security", "none", "--from", "pinads@example.org", "--to", "ops@example.org",
        "--source", "shop", "--event", "run.failed",
    )  # fmt: skip
    assert code == 0
    assert pinads("run", "shop")[0] == 0
    assert webhook_receiver.received == []  # a run with rows is no news

    with AuthorizerService(load_settings()) as service:  # expiring soon: the run refreshes
        record = service.db.authorizers.find("demo")
        soon = tokens_of(service.box, record).model_copy(
            update={"access_expires_at": datetime.now(UTC) - timedelta(minutes=1)}
        )
        service.db.authorizers.save_tokens(record.id, seal_tokens(service.box, soon))
    emulator_server.state.tokens.revoke_all()  # access removed at Pinterest
    code, out = pinads("run", "shop")
    assert code == 3, out
    events = _events(webhook_receiver)
    assert [e["kind"] for e in events] == ["run.failed", "authorizer.revoked"]
    assert events[0]["source"] == "shop" and "re-authorize" in events[0]["summary"]
    assert events[1]["summary"] == (
        "authorizer demo needs re-authorization: it was revoked (sources: shop)"
    )
    [mail] = mailbox.messages  # the email channel wants run failures of shop only
    assert mail["Subject"].startswith("[pinads] run of shop failed: ")

    watch_authorizers(load_settings())  # the scheduler's next check: nothing new
    assert len(webhook_receiver.received) == 2


def test_a_revocation_and_an_expiring_token_alert_once_each(
    authorizer: str, webhook_receiver: WebhookReceiver
) -> None:
    _hook(webhook_receiver, "--event", "authorizer.expiring", "--event", "authorizer.revoked")
    settings = load_settings()
    with AuthorizerService(settings) as service:
        record = service.db.authorizers.find("demo")
        soon = tokens_of(service.box, record).model_copy(
            update={"refresh_expires_at": datetime.now(UTC) + timedelta(days=5)}
        )
        service.db.authorizers.save_tokens(record.id, seal_tokens(service.box, soon))
    for _ in range(3):  # three scheduler checks
        watch_authorizers(settings)
    [expiring] = _events(webhook_receiver)
    assert expiring["kind"] == "authorizer.expiring"
    assert expiring["summary"] == "the refresh token of authorizer demo expires in 4 day(s)"

    assert pinads("auth", "revoke", "demo", "--yes")[0] == 0
    watch_authorizers(settings)
    kinds = [e["kind"] for e in _events(webhook_receiver)]
    assert kinds == ["authorizer.expiring", "authorizer.revoked"]


def test_empty_data_is_notified_whether_or_not_the_source_allows_it(
    authorizer: str, webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    _hook(webhook_receiver, "--event", "run.empty")
    _source(tmp_path, "words", dataset="keywords", accounts=[FJORD])
    code, _ = pinads("run", "words")
    assert code == 5  # No data retrieved
    _source(tmp_path, "words_ok", dataset="keywords", accounts=[FJORD], allow_empty=True)
    assert pinads("run", "words_ok")[0] == 0
    events = _events(webhook_receiver)
    assert [(e["kind"], e["source"]) for e in events] == [
        ("run.empty", "words"),
        ("run.empty", "words_ok"),
    ]
    assert events[0]["details"]["reason"].startswith("No data retrieved: source 'words'")
    assert events[1]["details"]["reason"].endswith("loaded no rows (allow_empty is on)")
