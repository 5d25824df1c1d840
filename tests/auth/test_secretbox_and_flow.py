"""SecretBox keys (env, 0600 key file created once even under races) and the redirect checks
of the code flow (state, errors, callback server)."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading

import httpx
import pytest
from cryptography.fernet import Fernet

from pinads.api import OAuthApp
from pinads.auth import CallbackServer, code_from_redirect, run_code_flow
from pinads.errors import AuthError, ConfigError, StateError
from pinads.settings import load_settings
from pinads.state import SecretBox


def test_key_file_is_created_once_with_mode_0600_and_reused() -> None:
    settings = load_settings()
    box = SecretBox.from_settings(settings)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    ciphertext = box.encrypt("s3cret-value")
    assert "s3cret-value" not in ciphertext
    again = SecretBox.from_settings(load_settings())
    assert again.decrypt(ciphertext).get_secret_value() == "s3cret-value"
    assert [p.name for p in settings.home.iterdir() if p.name.startswith(".")] == []


def test_loose_key_file_mode_is_tightened() -> None:
    settings = load_settings()
    SecretBox.from_settings(settings)
    settings.key_file.chmod(0o644)
    SecretBox.from_settings(settings)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600


def test_env_key_wins_and_no_key_file_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PINADS_SECRET_KEY", key)
    settings = load_settings()
    box = SecretBox.from_settings(settings)
    assert Fernet(key.encode()).decrypt(box.encrypt("x").encode()) == b"x"
    assert not settings.key_file.exists()
    monkeypatch.setenv("PINADS_SECRET_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="PINADS_SECRET_KEY is not a valid Fernet key"):
        SecretBox.from_settings(load_settings())


def test_wrong_key_gives_a_state_error() -> None:
    ciphertext = SecretBox(Fernet.generate_key()).encrypt("x")
    with pytest.raises(StateError, match="cannot be decrypted with the secret key"):
        SecretBox(Fernet.generate_key()).decrypt(ciphertext)


def test_processes_racing_to_create_the_key_file_agree() -> None:
    code = (
        "from pinads.state import load_or_create_key_file; from pinads.settings import "
        "load_settings; print(load_or_create_key_file(load_settings().key_file).decode())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert len(keys) == 1
    assert keys == {load_settings().key_file.read_text().strip()}


def test_code_from_redirect_checks() -> None:
    ok = "http://127.0.0.1:1/callback?code=abc&state=s1"
    assert code_from_redirect(ok, expected_state="s1") == "abc"
    with pytest.raises(AuthError, match="state does not match"):
        code_from_redirect(ok, expected_state="s2")
    with pytest.raises(AuthError, match="access_denied"):
        code_from_redirect("http://x/?error=access_denied&state=s1", expected_state="s1")
    with pytest.raises(AuthError, match=r"error invalid_scope \(bad\)"):
        code_from_redirect(
            "http://x/?error=invalid_scope&error_description=bad&state=s1", expected_state="s1"
        )
    with pytest.raises(AuthError, match="has no authorization code"):
        code_from_redirect("http://x/?state=s1", expected_state="s1")


def test_callback_server_takes_the_first_redirect_and_ignores_other_requests() -> None:
    with CallbackServer() as server:
        base = server.redirect_uri
        assert base.startswith("http://127.0.0.1:") and base.endswith("/callback")
        assert httpx.get(base.replace("/callback", "/favicon.ico")).status_code == 404
        assert httpx.get(base).status_code == 404  # neither code nor error
        assert httpx.get(base + "?code=one&state=s").status_code == 200
        httpx.get(base + "?code=two&state=s")
        assert server.wait(5) == base + "?code=one&state=s"


def test_non_loopback_redirect_uri_needs_paste_mode() -> None:
    with pytest.raises(ConfigError, match="use --no-browser"):
        CallbackServer("https://example.com/callback")


def test_flow_times_out_with_a_clear_error_and_no_exchange() -> None:
    app = OAuthApp(client_id="c", client_secret="s", api_url="http://127.0.0.1:9/v5")
    announced: list[str] = []

    def announce(url: str, opened: bool) -> None:
        announced.append(url)

    with pytest.raises(AuthError, match="no redirect from Pinterest's consent page within 0 s"):
        run_code_flow(app, announce=announce, open_browser=False, timeout_seconds=0.2)
    assert announced and "client_id=c" in announced[0]


def test_paste_mode_uses_the_pasted_url() -> None:
    app = OAuthApp(client_id="c", client_secret="s", api_url="http://127.0.0.1:9/v5")
    seen: dict[str, str] = {}
    event = threading.Event()

    def announce(url: str, opened: bool) -> None:
        seen["url"] = url
        event.set()

    def paste() -> str:
        event.wait(5)
        return "http://127.0.0.1:8085/callback?error=access_denied&state=x"

    with pytest.raises(AuthError, match="access_denied"):
        run_code_flow(app, announce=announce, paste=paste)
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8085%2Fcallback" in seen["url"]
