"""`pinads users create`, `pinads tokens create|list|delete`, and the first start with
PINADS_ADMIN_PASSWORD, against the control DB of the test's PINADS_HOME."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pinads.cli import app
from pinads.cli.web_cmd import exposure_warning
from pinads.errors import ConfigError, PinadsError
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.users import WebUsers

from .conftest import Browser

runner = CliRunner()


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    if isinstance(result.exception, PinadsError):
        return result.exception.exit_code, f"{result.output}error: {result.exception}"
    return result.exit_code, result.output


def _authenticates(username: str, password: str) -> bool:
    store = WebUsers(open_control_db(load_settings()))
    try:
        return store.authenticate(username, password)
    finally:
        store.db.close()


def test_users_create_then_new_password_then_log_in() -> None:
    code, out = _invoke("users", "create", "alice", "--password-stdin", stdin="first-secret\n")
    assert (code, out.strip()) == (0, "created user alice (admin)")
    code, out = _invoke("users", "create", "alice", "--password-stdin", stdin="second-secret\n")
    assert (code, out.strip()) == (0, "new password set for alice")
    assert _authenticates("alice", "second-secret") and not _authenticates("alice", "first-secret")
    with TestClient(create_app(load_settings())) as client:
        assert Browser(client).login("alice", "second-secret").status_code == 303


def test_users_create_prompts_twice_and_refuses_bad_input() -> None:
    code, out = _invoke("users", "create", stdin="one-password\nanother-one\n")
    assert code == 2 and "the passwords differ: run the command again" in out
    code, out = _invoke("users", "create", stdin="same-password\nsame-password\n")
    assert code == 0 and "created user admin" in out
    code, out = _invoke("users", "create", "bob", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 8 characters" in out
    code, out = _invoke("users", "create", "9bob", "--password-stdin", stdin="long-enough\n")
    assert code == 2 and "user name '9bob' is not allowed" in out


def test_tokens_create_list_use_delete() -> None:
    _invoke("users", "create", "--password-stdin", stdin="admin-password\n")
    code, out = _invoke("tokens", "list")
    assert code == 0 and "no API tokens: create one with `pinads tokens create NAME`" in out
    code, out = _invoke("tokens", "create", "airflow")
    assert code == 0
    token = out.strip().splitlines()[0]
    assert token.startswith("pinads_")
    code, out = _invoke("tokens", "list")
    lines = out.strip().splitlines()
    assert lines[0] == "id\tname\tuser\trole\tcreated\texpires\tlast used"
    assert lines[1].startswith("1\tairflow\tadmin\t") and lines[1].endswith("never used")
    assert token not in out  # only its hash is stored
    with TestClient(create_app(load_settings())) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/me", headers=headers).json() == {
            "username": "admin",
            "role": "admin",
        }
        code, out = _invoke("tokens", "delete", "1")
        assert (code, out.strip()) == (0, "deleted API token 1")
        assert client.get("/api/me", headers=headers).status_code == 401
    code, out = _invoke("tokens", "delete", "1")
    assert code == 2 and "no API token with id 1: see `pinads tokens list`" in out
    code, out = _invoke("tokens", "create", "x", "--user", "nobody")
    assert code == 2 and "no user 'nobody': create it with `pinads users create`" in out


def test_first_start_password_too_short_says_which_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINADS_ADMIN_PASSWORD", "x")
    with pytest.raises(ConfigError) as caught:
        create_app(load_settings())
    assert str(caught.value) == (
        "PINADS_ADMIN_PASSWORD is too short: use at least 8 characters, or create the user "
        "with `pinads users create`"
    )


def test_admin_password_is_used_only_when_no_user_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _invoke("users", "create", "--password-stdin", stdin="chosen-password\n")
    monkeypatch.setenv("PINADS_ADMIN_PASSWORD", "environment-password")
    create_app(load_settings())
    assert _authenticates("admin", "chosen-password")
    assert not _authenticates("admin", "environment-password")


def test_serving_beyond_loopback_warns_about_https() -> None:
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    warning = exposure_warning("0.0.0.0")
    assert warning is not None and "HTTPS reverse proxy and add --secure-cookies" in warning
    note = exposure_warning("0.0.0.0", secure_cookies=True)
    assert note is not None and "session cookies are sent over HTTPS only" in note
