"""Roles over the JSON API, API tokens and pages: each role's allowed and refused calls,
tokens limited to their creator's role and expiring, disabled users, the last admin kept, and
every change in the audit log that only admins read."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.errors import ConfigError
from pinads.state.db import utc_now
from pinads.web.roles import POLICY, Role
from pinads.web.users import WebUsers

from .conftest import ADMIN, PASSWORD, Browser

ROLES = (Role.ADMIN, Role.EDITOR, Role.VIEWER, Role.AUTHORIZER)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _source(tmp_path: Path, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "dataset": "campaigns",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
    }


@pytest.fixture
def tokens(web_store: WebUsers) -> dict[Role, str]:
    found = {}
    for role in ROLES:
        name = f"{role.value}1"
        if role is not Role.ADMIN:
            web_store.set_user(name, PASSWORD, role=role)
        found[role] = web_store.create_token(
            name="t", username=name if role is not Role.ADMIN else ADMIN
        )
    return found


# (method, path, body) and the roles that may call it; the others get 403.
CALLS: list[tuple[str, str, Any, set[Role]]] = [
    ("GET", "/api/sources", None, {Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    ("GET", "/api/runs", None, {Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    ("GET", "/api/datasets", None, {Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    ("GET", "/api/authorizers", None, set(ROLES)),
    ("GET", "/api/me", None, set(ROLES)),
    ("GET", "/api/audit", None, {Role.ADMIN}),
    ("GET", "/api/notifications", None, {Role.ADMIN}),
    ("DELETE", "/api/sources/nope", None, {Role.ADMIN, Role.EDITOR}),  # allowed: then 404
    ("POST", "/api/sources/nope/run", None, {Role.ADMIN, Role.EDITOR}),
    ("DELETE", "/api/authorizers/nope", None, {Role.ADMIN}),
    ("POST", "/api/authorizers/nope/test", None, {Role.ADMIN, Role.AUTHORIZER}),
    ("GET", "/metrics", None, {Role.ADMIN, Role.EDITOR, Role.VIEWER}),
]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_each_role_is_allowed_its_calls_and_refused_the_rest(
    client: TestClient, tokens: dict[Role, str], role: Role
) -> None:
    wrong = []
    for method, path, body, allowed in CALLS:
        answer = client.request(method, path, json=body, headers=_auth(tokens[role]))
        refused = answer.status_code == 403
        if refused == (role in allowed):
            wrong.append((method, path, answer.status_code))
        if refused and path.startswith("/api"):
            assert answer.json()["detail"].startswith(f"your role ({role.value}) may not ")
    assert wrong == []


def test_an_editor_creates_and_runs_sources_a_viewer_cannot(
    client: TestClient, tokens: dict[Role, str], authorizer: str, tmp_path: Path
) -> None:
    viewer = client.post(
        "/api/sources", json=_source(tmp_path, "v"), headers=_auth(tokens[Role.VIEWER])
    )
    assert viewer.status_code == 403
    assert viewer.json() == {
        "detail": "your role (viewer) may not change sources or start runs: ask an admin for "
        "a role that may"
    }
    editor = client.post(
        "/api/sources", json=_source(tmp_path, "e"), headers=_auth(tokens[Role.EDITOR])
    )
    assert editor.status_code == 201, editor.text
    assert client.get("/api/sources", headers=_auth(tokens[Role.VIEWER])).json()[0]["name"] == "e"
    entries = client.get("/api/audit", headers=_auth(tokens[Role.ADMIN])).json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries[:1]] == [
        ("editor1", "source.create", "e")
    ]


def test_a_token_never_exceeds_its_users_role(web_store: WebUsers, client: TestClient) -> None:
    web_store.set_user("ed", PASSWORD, role=Role.EDITOR)
    with pytest.raises(ConfigError, match=r"cannot have the role admin"):
        web_store.create_token(name="x", username="ed", role=Role.ADMIN)
    with pytest.raises(ConfigError, match=r"cannot have the role authorizer"):
        web_store.create_token(name="x", username="ed", role=Role.AUTHORIZER)
    read_only = web_store.create_token(name="ro", username=ADMIN, role=Role.VIEWER)
    assert client.get("/api/me", headers=_auth(read_only)).json() == {
        "username": ADMIN,
        "role": "viewer",
    }
    assert client.get("/api/audit", headers=_auth(read_only)).status_code == 403
    # A user demoted after making a token: the token shrinks with it.
    own = web_store.create_token(name="own", username="ed")
    web_store.set_user("boss", PASSWORD, role=Role.ADMIN)
    web_store.set_role("ed", Role.VIEWER)
    assert client.delete("/api/sources/x", headers=_auth(own)).status_code == 403


def test_tokens_expire_and_disabled_users_are_refused(
    web_store: WebUsers, client: TestClient
) -> None:
    soon = utc_now() + timedelta(days=1)
    token = web_store.create_token(name="t", username=ADMIN, expires_at=soon)
    assert client.get("/api/me", headers=_auth(token)).status_code == 200
    with pytest.raises(ConfigError, match="in the past"):
        web_store.create_token(name="t", username=ADMIN, expires_at=utc_now() - timedelta(1))
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert web_store.db.api_tokens.use(digest, now=soon - timedelta(seconds=1)) is not None
    assert web_store.db.api_tokens.use(digest, now=soon + timedelta(seconds=1)) is None
    web_store.set_user("temp", PASSWORD, role=Role.EDITOR)
    temp = web_store.create_token(name="t", username="temp")
    assert client.get("/api/me", headers=_auth(temp)).status_code == 200
    web_store.disable("temp")
    refused = client.get("/api/me", headers=_auth(temp))
    assert refused.status_code == 401 and refused.json()["detail"] == "invalid or expired API token"


def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(web_store: WebUsers) -> None:
    with pytest.raises(ConfigError, match="the only active admin"):
        web_store.set_role(ADMIN, Role.VIEWER)
    with pytest.raises(ConfigError, match="the only active admin"):
        web_store.disable(ADMIN)
    with pytest.raises(ConfigError, match="the only active admin"):
        web_store.delete(ADMIN)
    web_store.set_user("second", PASSWORD, role=Role.ADMIN)
    web_store.set_role(ADMIN, Role.VIEWER)  # with another admin, it may
    assert web_store.role(ADMIN) is Role.VIEWER


def test_pages_refuse_with_a_page_and_the_menu_follows_the_role(
    web_store: WebUsers, client: TestClient
) -> None:
    web_store.set_user("viewer1", PASSWORD, role=Role.VIEWER)
    web_store.set_user("auth1", PASSWORD, role=Role.AUTHORIZER)
    viewer = Browser(client)
    assert viewer.login("viewer1").status_code == 303
    refused = viewer.client.get("/users")
    assert refused.status_code == 403 and 'id="error-message"' in refused.text
    assert "your role (viewer) may not manage users" in refused.text
    assert viewer.post_form("/sources/x/delete", {}).status_code == 403
    menu = viewer.client.get("/sources").text
    assert 'href="/sources"' in menu and 'href="/users"' not in menu
    viewer.client.post("/logout", data={"csrf_token": viewer.csrf})
    assert viewer.login("auth1").status_code == 303
    page = viewer.client.get("/authorizers").text
    assert 'href="/authorizers"' in page and 'href="/sources"' not in page
    assert viewer.client.get("/sources").status_code == 403
    assert viewer.client.get("/authorizers/new").status_code == 200


def test_admins_manage_users_on_the_page_and_everything_is_audited(
    browser: Browser, web_store: WebUsers
) -> None:
    made = browser.post_form("/users", {"username": "ann", "password": PASSWORD, "role": "editor"})
    assert made.status_code == 200 and "User ann created (editor)." in made.text
    assert web_store.role("ann") is Role.EDITOR
    assert "ann is now viewer." in browser.post_form("/users/ann/role", {"role": "viewer"}).text
    assert web_store.role("ann") is Role.VIEWER
    for action in ("disable", "enable", "unlock", "delete"):
        done = browser.post_form(f"/users/ann/{action}", {})
        assert done.status_code == 200 and f"ann {action}" in done.text
    assert not web_store.user_exists("ann")
    audit = browser.client.get("/audit").text
    for action in ("user.create", "user.role", "user.disable", "user.enable", "user.unlock"):
        assert action in audit
    assert "user.delete" in audit


def test_every_route_is_in_the_policy() -> None:
    from .test_security import ROUTES

    routes = {(method, _template(path)) for method, path in ROUTES if method != "HEAD"}
    public = {("GET", "/"), ("GET", "/api/health"), ("GET", "/login"), ("POST", "/login")}
    assert routes - public <= set(POLICY), routes - public - set(POLICY)
    assert set(POLICY) - routes == set()  # nothing stale either


def _template(path: str) -> str:
    """test_security fills the route parameters in: put the names back."""
    from .test_security import _PARAMS

    for name, value in _PARAMS.items():
        path = path.replace(f"/{value}/", f"/{{{name}}}/")
        if path.endswith(f"/{value}"):
            path = path[: -len(value)] + f"{{{name}}}"
    return path
