"""`pinads auth add` end to end: a real CLI process, the loopback emulator's consent page
driven over HTTP like a browser, pinads' loopback callback server; and the failures."""

from __future__ import annotations

import httpx
import pytest

from pinads.auth import AuthorizerService
from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorServer
from pinads.emulator.tokens import TokenInfo

from .conftest import CliProcess, advance_emulator_clock, consent_redirect, with_state


def _add(server: EmulatorServer, env: dict[str, str], *extra: str) -> CliProcess:
    return CliProcess(
        "auth", "add", "--client-id", DEMO_CLIENT_ID, "--api-url", server.api_url, *extra, env=env
    )


def _stored_labels() -> list[str]:
    with AuthorizerService() as service:
        return [a.label for a in service.list()]


def test_code_flow_through_the_cli_and_callback_server(
    emulator_server: EmulatorServer, cli_env: dict[str, str]
) -> None:
    cli = _add(emulator_server, cli_env, "--label", "shop")
    url = cli.consent_url()
    assert "state=" in url and "scope=ads%3Aread%2Cuser_accounts%3Aread" in url
    location = consent_redirect(url)
    assert location.startswith("http://127.0.0.1:")
    callback = httpx.get(location, timeout=10)  # the browser follows the redirect to pinads
    assert callback.status_code == 200
    assert "pinads received the authorization" in callback.text
    code, out, err = cli.finish()
    assert code == 0, err
    assert "added authorizer shop (id 1) for hearth_home_marketing" in out
    assert "ads:read, user_accounts:read" in out
    with AuthorizerService() as service:
        [authorizer] = service.list()
        assert authorizer.pinterest_user_id == DEFAULT_USER_ID
        assert service.test("shop").ok  # the stored tokens work over the real loopback API


def test_no_browser_reads_the_pasted_redirect_url_from_stdin(
    emulator_server: EmulatorServer, cli_env: dict[str, str]
) -> None:
    cli = _add(emulator_server, cli_env, "--no-browser")
    location = consent_redirect(cli.consent_url())
    assert location.startswith("http://127.0.0.1:8085/callback?")  # nothing listens there
    code, out, err = cli.finish(location + "\n")
    assert code == 0, err
    assert "added authorizer hearth_home_marketing (id 1)" in out
    assert _stored_labels() == ["hearth_home_marketing"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_state", "the redirect's state does not match this authorization request"),
        ("denied", "the authorization was denied on Pinterest's consent page (access_denied)"),
        ("bad_secret", "Pinterest rejected the app credentials for client id pinads-demo"),
        ("expired_code", "the authorization code was refused (expired, already used"),
    ],
)
def test_failures_give_one_clear_line_and_store_nothing(
    emulator_server: EmulatorServer, cli_env: dict[str, str], case: str, message: str
) -> None:
    env = {**cli_env, "PINADS_CLIENT_SECRET": "not-the-secret"} if case == "bad_secret" else cli_env
    cli = _add(emulator_server, env, "--label", "shop")
    url = cli.consent_url()
    location = consent_redirect(url, decision="deny" if case == "denied" else "approve")
    if case == "wrong_state":
        location = with_state(location, "forged-state")
    if case == "expired_code":
        advance_emulator_clock(emulator_server.base_url, 11 * 60)  # codes live 10 minutes
    httpx.get(location, timeout=10)
    code, out, err = cli.finish()
    assert code == 3, (out, err)
    assert message in err
    assert "Traceback" not in err + out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "not-the-secret" not in err + out
    assert _stored_labels() == []


def test_reauthorize_a_revoked_authorizer_by_pasting_the_redirect(
    emulator_server: EmulatorServer, cli_env: dict[str, str]
) -> None:
    state = emulator_server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    with AuthorizerService() as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=state.tokens.mint(info, now=state.now()).refresh_token,
            api_url=emulator_server.api_url,
            label="shop",
        )
        assert service.revoke("shop").revoked_at_pinterest
        assert service.get("shop").is_revoked
    cli = CliProcess("auth", "reauthorize", "shop", "--no-browser", env=cli_env)
    url = cli.consent_url()
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8085%2Fcallback" in url
    code, out, err = cli.finish(consent_redirect(url) + "\n")
    assert code == 0, err
    assert "copy the address bar" in out
    assert "re-authorized authorizer shop (id 1) for hearth_home_marketing" in out
    with AuthorizerService() as service:
        assert not service.get("shop").is_revoked
        assert service.test("shop").ok


def test_an_imported_refresh_token_that_was_already_used_is_explained(
    emulator_server: EmulatorServer, cli_env: dict[str, str]
) -> None:
    state = emulator_server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    token = state.tokens.mint(info, now=state.now()).refresh_token
    first = CliProcess(
        "auth", "add", "--client-id", DEMO_CLIENT_ID, "--api-url", emulator_server.api_url,
        "--refresh-token", token, "--label", "first", env=cli_env,
    )  # fmt: skip
    assert first.finish()[0] == 0
    again = CliProcess(
        "auth", "add", "--client-id", DEMO_CLIENT_ID, "--api-url", emulator_server.api_url,
        "--label", "again", env={**cli_env, "PINADS_REFRESH_TOKEN": token},
    )  # fmt: skip
    code, out, err = again.finish()
    assert code == 3, (out, err)
    assert err.startswith(
        "error: Pinterest refused the refresh token for client id pinads-demo: it is expired, "
        "revoked or already used"
    )
    assert "nothing was stored" in err and "leave out --refresh-token" in err
    assert "re-authorize this authorizer" not in err  # there is no authorizer to re-authorize
    assert token not in err + out and "Traceback" not in err
    assert _stored_labels() == ["first"]
    bad_url = _add(emulator_server, cli_env, "--api-url", "ftp://example.com/v5", "--label", "x")
    code, out, err = bad_url.finish()
    assert code == 2
    assert err.strip() == (
        "error: invalid app settings: --api-url: api_url must be an http(s) URL, got "
        "'ftp://example.com/v5'"
    )
