"""The audit log: logins (both outcomes), logouts, password changes and state changes through
the pages, the API and the CLI, in the control DB (actor, action, target, details, at,
address) and in the log, never with a secret; shown on /audit, by GET /api/audit (paged) and
by `pinads audit`."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pinads.cli import app as cli_app
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.audit import AuditLog
from pinads.web.users import WebUsers

from .conftest import ADMIN, PASSWORD, Browser

NEW_PASSWORD = "another fine passphrase"


def _entries(**filters: Any) -> list[dict[str, Any]]:
    store = WebUsers(open_control_db(load_settings()))
    try:
        return [e.model_dump() for e in AuditLog(store.db.audit).entries(limit=500, **filters)]
    finally:
        store.db.close()


def _actions() -> list[tuple[str, str, str | None]]:
    """(actor, action, target), oldest first."""
    return [(e["actor"], e["action"], e["target"]) for e in reversed(_entries())]


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> None:
    for _ in range(600):
        if client.get(f"/api/jobs/{job_id}", headers=headers).json()["status"] != "running":
            return
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def _source(tmp_path: Path) -> dict[str, Any]:
    return {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_7_days",
        "destination": f"duckdb:///{tmp_path}/audit.duckdb",
    }


def test_logins_logouts_and_password_changes_are_recorded(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pinads.audit")
    browser = Browser(client)
    assert browser.login(ADMIN, "not-the-password").status_code == 401
    assert browser.login("mallory", "guessing-away").status_code == 401
    assert browser.login().status_code == 303
    browser.post_form(
        "/account/password",
        {"current": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    browser.refresh_csrf()
    browser.post_form("/logout", {})
    assert _actions() == [
        (ADMIN, "login.failure", ADMIN),
        ("mallory", "login.failure", "mallory"),
        (ADMIN, "login.success", ADMIN),
        (ADMIN, "password.change", ADMIN),
        (ADMIN, "logout", ADMIN),
    ]
    assert {e["address"] for e in _entries()} == {"testclient"}
    text = json.dumps(_entries(), default=str) + caplog.text
    for secret in (PASSWORD, NEW_PASSWORD, "not-the-password", "guessing-away"):
        assert secret not in text
    assert "action=login.failure" in caplog.text and "actor=mallory" in caplog.text


def test_state_changes_through_the_api_are_recorded(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {api_token}"}
    assert client.post("/api/sources", headers=headers, json=_source(tmp_path)).status_code == 201
    document = {**_source(tmp_path), "date_range": "last_14_days"}
    assert client.put("/api/sources/shop", headers=headers, json=document).status_code == 200
    run = client.post("/api/sources/shop/run", headers=headers)
    backfill = client.post(
        "/api/sources/shop/backfill", headers=headers, json={"start": "2026-01-01"}
    )
    assert run.status_code == backfill.status_code == 202
    for job in (run.json()["id"], backfill.json()["id"]):
        _wait(client, headers, job)
    assert client.delete("/api/sources/shop", headers=headers).status_code == 204
    renamed = client.patch("/api/authorizers/demo", headers=headers, json={"label": "main"})
    assert renamed.status_code == 200
    assert client.delete("/api/authorizers/main", headers=headers).status_code == 204
    assert _actions() == [
        (ADMIN, "source.create", "shop"),
        (ADMIN, "source.update", "shop"),
        (ADMIN, "run.start", "shop"),
        (ADMIN, "backfill.start", "shop"),
        (ADMIN, "source.delete", "shop"),
        (ADMIN, "authorizer.rename", "main"),
        (ADMIN, "authorizer.delete", "main"),
    ]
    rename = _entries(action="authorizer.rename")[0]
    assert rename["details"] == {"from": "demo", "via": "api"}
    assert _entries(action="backfill.start")[0]["details"]["start"] == "2026-01-01"


def test_state_changes_through_the_pages_are_recorded(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    with browser.client as client:
        client.post(
            "/api/sources",
            json=_source(tmp_path),
            headers={"X-CSRF-Token": browser.csrf},
        )
    browser.post_form("/sources/shop/run", {})
    browser.post_form("/sources/shop/delete", {})
    actions = [a for a in _actions() if a[1] != "login.success"]
    assert actions == [
        (ADMIN, "source.create", "shop"),
        (ADMIN, "run.start", "shop"),
        (ADMIN, "source.delete", "shop"),
    ]
    assert _entries(action="run.start")[0]["details"]["via"] == "web"


def test_the_api_pages_through_the_log(client: TestClient, api_token: str) -> None:
    browser = Browser(client)
    for n in range(5):
        browser.login(ADMIN, f"wrong-{n}")
    headers = {"Authorization": f"Bearer {api_token}"}
    first = client.get("/api/audit?limit=3", headers=headers).json()
    assert [e["action"] for e in first["entries"]] == ["login.failure"] * 3
    assert first["next_before"] == first["entries"][-1]["id"]
    rest = client.get(f"/api/audit?limit=3&before={first['next_before']}", headers=headers)
    assert len(rest.json()["entries"]) == 2 and rest.json()["next_before"] is None
    ids = [e["id"] for e in first["entries"] + rest.json()["entries"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert set(first["entries"][0]) == {
        "id",
        "at",
        "actor",
        "action",
        "target",
        "details",
        "address",
    }
    assert client.get("/api/audit").status_code == 401


def test_the_audit_page_shows_the_newest_entries(browser: Browser) -> None:
    page = browser.client.get("/audit")
    assert page.status_code == 200
    assert "login.success" in page.text and "testclient" in page.text
    assert browser.client.get("/audit?before=abc").status_code == 422


def test_cli_changes_are_recorded_and_listed() -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli_app, ["users", "create", "ops", "--password-stdin"], input="ops-password-1\n"
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(cli_app, ["tokens", "create", "airflow", "--user", "ops"])
    assert token.exit_code == 0
    listed = runner.invoke(cli_app, ["audit", "--limit", "5"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert "token.create" in lines[1] and "airflow" in lines[1]
    assert "user.create" in lines[2] and "ops" in lines[2]
    assert "cli:" in lines[1]
    assert "ops-password-1" not in listed.output and "pinads_" not in listed.output
    empty = runner.invoke(cli_app, ["audit", "--action", "logout"])
    assert empty.exit_code == 0 and "no audit entries" in empty.output


def test_authorizer_changes_on_the_pages_are_recorded(browser: Browser, authorizer: str) -> None:
    from pinads.auth import AuthorizerService

    with AuthorizerService(load_settings()) as service:
        (saved,) = service.list()
    browser.post_form(f"/authorizers/{saved.id}/rename", {"label": "main"})
    browser.post_form(f"/authorizers/{saved.id}/revoke", {})
    browser.post_form(f"/authorizers/{saved.id}/delete", {})
    actions = [a for a in _actions() if a[1].startswith("authorizer.")]
    assert actions == [
        (ADMIN, "authorizer.rename", "main"),
        (ADMIN, "authorizer.revoke", "main"),
        (ADMIN, "authorizer.delete", "main"),
    ]
    assert _entries(action="authorizer.rename")[0]["details"] == {"from": "demo", "via": "web"}
