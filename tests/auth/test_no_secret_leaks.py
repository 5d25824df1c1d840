"""No plain access token, refresh token or client secret in logs, CLI output, error messages,
the control DB or any other file in PINADS_HOME, after a session that exercises everything."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest
from typer.testing import CliRunner

from pinads.auth import AuthorizerService, CodeFlowOptions
from pinads.cli import app
from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import PinadsError
from pinads.settings import load_settings

from .conftest import consent_redirect

runner = CliRunner()


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # One-minute access tokens: every client refreshes, so many tokens pass through pinads.
    return EmulatorConfig(seed=7, access_token_lifetime_days=1 / 1440)


def _browser(url: str, opened: bool) -> None:
    def drive() -> None:
        httpx.get(consent_redirect(url), timeout=10)

    threading.Thread(target=drive, daemon=True).start()


def _cli(outputs: list[str], *args: str) -> int:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    outputs.append(result.output)
    if isinstance(result.exception, PinadsError):
        outputs.append(str(result.exception))
        return result.exception.exit_code
    return result.exit_code


def _session(server: EmulatorServer, outputs: list[str]) -> None:
    with AuthorizerService() as service:
        flow = CodeFlowOptions(announce=_browser, open_browser=False, timeout_seconds=30)
        service.add_with_code_flow(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            flow=flow,
            api_url=server.api_url,
            label="main",
        )
        for _ in range(5):
            with service.open_client("main") as client:
                client.user_account()
                client.ad_accounts()
    for args in (("auth", "list"), ("auth", "show", "main"), ("auth", "test", "main")):
        assert _cli(outputs, *args) == 0
    assert _cli(outputs, "accounts", "list") == 0
    assert _cli(outputs, "auth", "add", "--client-id", DEMO_CLIENT_ID, "--client-secret",
                "wrong-secret", "--api-url", server.api_url, "--refresh-token",
                "pinr_bogus_but_secret_looking") == 3  # fmt: skip
    server.state.tokens.revoke_all()
    assert _cli(outputs, "auth", "test", "main") == 3
    assert _cli(outputs, "auth", "revoke", "main", "--yes") == 0


def test_no_secret_anywhere(
    emulator_server: EmulatorServer,
    issued: list[IssuedTokens],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    _session(emulator_server, outputs)
    secrets = {DEMO_CLIENT_SECRET, "wrong-secret", "pinr_bogus_but_secret_looking"}
    for pair in issued:
        secrets |= {pair.access_token, pair.refresh_token}
    assert len(secrets) >= 3 + 2 * 8  # the session really handled many tokens
    texts = {"logs": caplog.text, **{f"output {i}": o for i, o in enumerate(outputs)}}
    assert "re-authorize this authorizer" in caplog.text + "".join(outputs)
    home = load_settings().home
    files = [p for p in home.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"pinads.db", "secret.key"}
    for path in files:
        texts[str(path)] = path.read_bytes().decode("latin-1")
    for where, text in texts.items():
        leaked = [s[:6] for s in secrets if s in text]
        assert not leaked, f"{where} contains secrets starting {leaked}"
