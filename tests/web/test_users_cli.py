"""`pinads users list|create --role|set-role|disable|enable|unlock|delete` and `pinads tokens
create --role --expires-days`, with the audit entries they leave."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.errors import PinadsError
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.state.db import utc_now
from pinads.web.app import create_app
from pinads.web.policy import WebPolicy
from pinads.web.roles import Role
from pinads.web.users import WebUsers

from .conftest import Browser


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    if isinstance(result.exception, PinadsError):
        return result.exception.exit_code, f"{result.output}error: {result.exception}"
    return result.exit_code, result.output


def test_users_with_roles_from_the_command_line() -> None:
    assert _invoke("users", "create", "root", "--password-stdin", stdin="root-secret-1\n") == (
        0,
        "created user root (admin)\n",
    )
    code, out = _invoke(
        "users", "create", "ann", "--role", "viewer", "--password-stdin", stdin="ann-secret-1\n"
    )
    assert (code, out) == (0, "created user ann (viewer)\n")
    assert _invoke("users", "set-role", "ann", "editor") == (0, "ann is now editor\n")
    code, out = _invoke("users", "set-role", "ann", "owner")
    assert code == 2 and "'owner' is not one of 'admin', 'editor', 'viewer', 'authorizer'" in out
    assert _invoke("users", "disable", "ann")[0] == 0
    code, out = _invoke("users", "list")
    lines = out.splitlines()
    assert lines[0] == "user\trole\tstatus\tcreated"
    assert lines[1].startswith("ann\teditor\tdisabled ") and lines[2].startswith(
        "root\tadmin\tactive"
    )
    assert _invoke("users", "enable", "ann")[0] == 0
    code, out = _invoke("users", "disable", "root")
    assert code == 2 and "'root' is the only active admin: make another user admin first" in out
    code, out = _invoke("users", "delete", "nobody")
    assert code == 2 and "no user 'nobody': see `pinads users list`" in out
    assert _invoke("users", "delete", "ann") == (0, "ann deleted, with its API tokens\n")
    code, out = _invoke("audit")
    for action in ("user.create", "user.role", "user.disable", "user.enable", "user.delete"):
        assert f"\t{action}\tann\t" in out


def test_unlock_lets_a_throttled_user_log_in_again(client: TestClient) -> None:
    policy = WebPolicy(login_failures_per_user=2)
    with TestClient(create_app(load_settings(), policy=policy)) as web:
        browser = Browser(web)
        for _ in range(2):
            assert browser.login("admin", "wrong-password").status_code == 401
        assert browser.login().status_code == 429  # locked out, even with the right password
        assert _invoke("users", "unlock", "admin") == (
            0,
            "admin unlocked (its failed logins are forgotten)\n",
        )
        assert browser.login().status_code == 303


def test_tokens_with_a_role_and_an_expiry(client: TestClient) -> None:
    store = WebUsers(open_control_db(load_settings()))
    store.set_user("ed", "editor-secret-1", role=Role.EDITOR)
    store.db.close()
    code, out = _invoke("tokens", "create", "ci", "--user", "ed", "--role", "admin")
    assert code == 2 and "a token of 'ed' (editor) cannot have the role admin" in out
    code, out = _invoke(
        "tokens", "create", "ci", "--user", "ed", "--role", "viewer", "--expires-days", "7"
    )
    assert code == 0
    token = out.splitlines()[0]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "ed", "role": "viewer"}
    code, out = _invoke("tokens", "list")
    row = out.splitlines()[1].split("\t")
    expected = (utc_now() + timedelta(days=7)).strftime("%Y-%m-%d")
    assert row[1:4] == ["ci", "ed", "viewer"] and row[5].startswith(expected)


def test_cli_changes_of_authorizers_sources_and_runs_are_audited(
    authorizer: str, tmp_path: Path
) -> None:
    source = tmp_path / "shop.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "name": "shop",
                "dataset": "campaigns",
                "authorizer": "demo",
                "accounts": [EUR_ADVERTISER_ID],
                "destination": f"duckdb:///{tmp_path}/shop.duckdb",
            }
        )
    )
    assert _invoke("sources", "create", "--file", str(source))[0] == 0
    assert _invoke("run", "shop")[0] == 0
    assert _invoke("sources", "edit", "shop", "--file", str(source))[0] == 0
    assert _invoke("auth", "rename", "demo", "main")[0] == 0
    assert _invoke("sources", "delete", "shop", "--yes")[0] == 0
    assert _invoke("auth", "revoke", "main", "--yes")[0] == 0
    assert _invoke("auth", "delete", "main", "--yes")[0] == 0
    _, out = _invoke("audit")
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    assert [(r[2].startswith("cli:"), r[3], r[4]) for r in reversed(rows)] == [
        (True, "source.create", "shop"),
        (True, "run.start", "shop"),
        (True, "source.update", "shop"),
        (True, "authorizer.rename", "main"),
        (True, "source.delete", "shop"),
        (True, "authorizer.revoke", "main"),
        (True, "authorizer.delete", "main"),
    ]
