"""/api/notifications and the Notifications page: admins save, list (secrets never sent
back), test and delete channels; the saved secret is kept when "***" is sent back."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.roles import Role
from pinads.web.users import WebUsers

from .conftest import WebhookReceiver

PASSWORD = "notify-admin-secret"


@pytest.fixture
def tokens() -> dict[Role, str]:
    store = WebUsers(open_control_db(load_settings()))
    store.set_user("admin", PASSWORD)
    store.set_user("ed", PASSWORD, role=Role.EDITOR)
    found = {
        Role.ADMIN: store.create_token(name="a", username="admin"),
        Role.EDITOR: store.create_token(name="e", username="ed"),
    }
    store.db.close()
    return found


@pytest.fixture
def client(tokens: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load_settings()), base_url="http://127.0.0.1:8000") as web:
        yield web


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admins_manage_channels_over_the_api(
    client: TestClient, tokens: dict[Role, str], webhook_receiver: WebhookReceiver
) -> None:
    admin = _auth(tokens[Role.ADMIN])
    body = {
        "settings": {"kind": "webhook", "webhook": {"url": webhook_receiver.url}},
        "events": ["run.failed"],
        "secret": "api-secret-1",
    }
    assert (
        client.put(
            "/api/notifications/ops", json=body, headers=_auth(tokens[Role.EDITOR])
        ).status_code
        == 403
    )
    saved = client.put("/api/notifications/ops", json=body, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "name": "ops",
        "source": None,
        "events": ["run.failed"],
        "settings": {
            "kind": "webhook",
            "webhook": {"url": webhook_receiver.url, "timeout_seconds": 10.0, "max_attempts": 4},
        },
        "has_secret": True,
    }
    kept = client.put("/api/notifications/ops", json={**body, "secret": "***"}, headers=admin)
    assert kept.json()["has_secret"] is True
    assert "api-secret-1" not in client.get("/api/notifications", headers=admin).text
    tested = client.post("/api/notifications/ops/test", headers=admin)
    assert tested.json() == {"delivered": True, "problem": None}
    [hook] = webhook_receiver.received
    digest = hmac.new(b"api-secret-1", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["x-pinads-signature-256"] == f"sha256={digest}"  # the kept secret
    bad = client.put("/api/notifications/x", json={**body, "events": ["test"]}, headers=admin)
    assert bad.status_code == 422
    assert client.delete("/api/notifications/ops", headers=admin).status_code == 204
    assert client.delete("/api/notifications/ops", headers=admin).status_code == 404
    actions = [e["action"] for e in client.get("/api/audit", headers=admin).json()["entries"]]
    assert actions[:3] == ["notify.delete", "notify.update", "notify.create"]
