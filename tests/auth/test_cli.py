"""`pinads auth list|show|rename|test|revoke|delete` and `pinads accounts list` against the
loopback emulator (the CLI reads the control DB of the test's PINADS_HOME)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from pinads.auth import AuthorizerService
from pinads.auth.tokens import seal_tokens, tokens_of
from pinads.cli import app
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    FINANCE_ONLY_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.emulator.tokens import TokenInfo
from pinads.errors import PinadsError

runner = CliRunner()


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "250"})
    if isinstance(result.exception, PinadsError):
        return result.exception.exit_code, f"{result.output}error: {result.exception}"
    return result.exit_code, result.output


def _add(server: EmulatorServer, label: str = "main") -> int:
    state = server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    issued = state.tokens.mint(info, now=state.now())
    with AuthorizerService() as service:
        return service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=issued.refresh_token,
            api_url=server.api_url,
            label=label,
        ).id


def test_add_with_refresh_token_list_show_rename(emulator_server: EmulatorServer) -> None:
    state = emulator_server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    issued = state.tokens.mint(info, now=state.now())
    code, out = _invoke(
        "auth", "add", "--label", "main", "--client-id", DEMO_CLIENT_ID,
        "--client-secret", DEMO_CLIENT_SECRET, "--api-url", emulator_server.api_url,
        "--refresh-token", issued.refresh_token,
    )  # fmt: skip
    assert code == 0, out
    assert "added authorizer main (id 1) for hearth_home_marketing" in out
    code, out = _invoke("auth", "list")
    assert code == 0
    assert (
        "main" in out and "hearth_home_marketing" in out and "ads:read, user_accounts:read" in out
    )
    assert "(in 30 d)" in out and "(in 60 d)" in out and "ok" in out
    code, out = _invoke("auth", "rename", "main", "shop")
    assert code == 0 and "renamed authorizer 1 to shop" in out
    code, out = _invoke("auth", "show", "1")
    assert code == 0 and "shop" in out and emulator_server.api_url in out
    assert "used by sources" in out
    code, out = _invoke("auth", "show", "main")
    assert code == 2 and "no authorizer 'main' (authorizers: shop)" in out


def test_list_warns_when_the_refresh_token_expires_within_7_days(
    emulator_server: EmulatorServer,
) -> None:
    authorizer_id = _add(emulator_server)
    with AuthorizerService() as service:
        tokens = tokens_of(service.box, service.db.authorizers.get(authorizer_id))
        soon = tokens.model_copy(update={"refresh_expires_at": datetime.now(UTC) + timedelta(5)})
        service.db.authorizers.save_tokens(authorizer_id, seal_tokens(service.box, soon))
    code, out = _invoke("auth", "list")
    assert code == 0
    assert "refresh token expires within 7 days: run `pinads auth test main` to renew it" in out
    with AuthorizerService() as service:
        gone = soon.model_copy(update={"refresh_expires_at": datetime.now(UTC) - timedelta(1)})
        service.db.authorizers.save_tokens(authorizer_id, seal_tokens(service.box, gone))
    code, out = _invoke("auth", "list")
    assert code == 0
    assert "needs re-authorization (refresh token expired): `pinads auth reauthorize main`" in out
    assert "(expired)" in out
    code, out = _invoke("auth", "test", "main")
    assert code == 3 and "re-authorize this authorizer with `pinads auth reauthorize main`" in out


def test_list_says_needs_reauthorization_once_pinterest_refused_the_token(
    emulator_server: EmulatorServer,
) -> None:
    """An expiring authorizer whose access was removed at Pinterest is dead, not "expiring":
    the refused refresh marks it, and `auth list` says what to do."""
    authorizer_id = _add(emulator_server)
    with AuthorizerService() as service:
        tokens = tokens_of(service.box, service.db.authorizers.get(authorizer_id))
        soon = tokens.model_copy(update={"refresh_expires_at": datetime.now(UTC) + timedelta(5)})
        service.db.authorizers.save_tokens(authorizer_id, seal_tokens(service.box, soon))
    emulator_server.state.tokens.revoke_all()  # the user removed the app's access at Pinterest
    code, out = _invoke("auth", "test", "main")
    assert code == 3 and "re-authorize" in out
    code, out = _invoke("auth", "list")
    assert code == 0
    assert "needs re-authorization (revoked): `pinads auth reauthorize main`" in out
    assert "expires within 7 days" not in out


def test_test_and_accounts_list_mark_accounts_without_analytics_role(
    emulator_server: EmulatorServer,
) -> None:
    _add(emulator_server)
    code, out = _invoke("auth", "test", "main")
    assert code == 0, out
    assert "signed in as hearth_home_marketing" in out
    assert "7 ad account(s), 5 with an analytics role" in out
    code, out = _invoke("accounts", "list", "--authorizer", "main")
    assert code == 0, out
    finance_row = next(line for line in out.splitlines() if FINANCE_ONLY_ADVERTISER_ID in line)
    assert "Sakura Kitchen" in finance_row and "JPY" in finance_row and "JP" in finance_row
    assert "FINANCE_MANAGER" in finance_row and "no: needs an analytics role" in finance_row
    assert "2 account(s) lack an analytics role" in out
    code, out = _invoke("accounts", "list")  # every authorizer
    assert code == 0 and "Maison Claire" in out


def test_delete_refused_while_used_then_allowed(emulator_server: EmulatorServer) -> None:
    authorizer_id = _add(emulator_server)
    with AuthorizerService() as service:
        service.db.sources.create("daily", {"authorizer": "main"}, authorizer_id=authorizer_id)
    code, out = _invoke("auth", "delete", "main", "--yes")
    assert code == 2 and "'main' is used by source(s) daily" in out
    code, out = _invoke("auth", "show", "main")
    assert "daily" in out
    with AuthorizerService() as service:
        service.db.sources.delete("daily")
    code, out = _invoke("auth", "delete", "main", stdin="n\n")
    assert code == 1  # declined: nothing deleted
    code, out = _invoke("auth", "delete", "main", "--yes")
    assert code == 0 and "deleted authorizer main (id 1)" in out
    code, out = _invoke("auth", "list")
    assert "no authorizers yet" in out


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinads", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_revoked_tokens_say_reauthorize_with_exit_3_and_no_traceback(
    emulator_server: EmulatorServer,
) -> None:
    _add(emulator_server, "outside")
    _add(emulator_server, "here")
    emulator_server.state.tokens.revoke_all()  # the user removed the app's access at Pinterest
    done = _cli("auth", "test", "outside")
    assert done.returncode == 3
    assert "re-authorize this authorizer" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    code, out = _invoke("auth", "revoke", "here", "--yes")
    assert code == 0 and "here" in out  # forgotten locally even though Pinterest refused
    done = _cli("auth", "test", "here")
    assert done.returncode == 3
    assert done.stderr.startswith("error: authorizer 'here' was revoked: re-authorize this")
    assert "Traceback" not in done.stderr


def test_accounts_list_of_every_authorizer_skips_a_broken_one_and_exits_non_zero(
    emulator_server: EmulatorServer,
) -> None:
    _add(emulator_server, "broken")
    _add(emulator_server, "fine")
    _add(emulator_server, "gone")
    assert _invoke("auth", "revoke", "gone", "--yes")[0] == 0
    with AuthorizerService() as service:
        broken = service.db.authorizers.find("broken")
        refresh = tokens_of(service.box, broken).refresh_token.get_secret_value()
    emulator_server.state.tokens.revoke(refresh)  # access removed at Pinterest for this one only
    code, out = _invoke("accounts", "list")
    assert code == 3, out
    assert "skipped revoked authorizer gone" in out
    assert "skipped authorizer broken: " in out and "re-authorize this authorizer" in out
    rows = [line for line in out.splitlines() if "5497558130" in line]
    assert len(rows) == 7 and all("│ fine " in row for row in rows)
    code, out = _invoke("accounts", "list", "--authorizer", "broken")
    assert code == 3 and "re-authorize this authorizer" in out
    assert "ad accounts" not in out  # a named authorizer that fails is an error, no table


def test_set_tier_changes_the_budgets_of_the_next_client(emulator_server: EmulatorServer) -> None:
    from pinads.api import STANDARD_TIER, TRIAL_TIER

    _add(emulator_server)
    code, out = _invoke("auth", "set-tier", "main", "trial")
    assert code == 0, out
    assert "authorizer main now uses the trial tier's rate limits (from its next run)" in out
    with AuthorizerService() as service, service.open_client("main") as client:
        assert service.get("main").rate_tier == "trial"
        assert client.budgets.limits == TRIAL_TIER  # type: ignore[attr-defined]
    code, out = _invoke("auth", "set-tier", "main", "gold")
    assert code == 2 and "rate tier must be one of standard, trial: got 'gold'" in out
    code, out = _invoke("auth", "set-tier", "main", "standard")
    assert code == 0
    with AuthorizerService() as service, service.open_client("main") as client:
        assert client.budgets.limits == STANDARD_TIER  # type: ignore[attr-defined]
