"""AuthorizerService against the in-process emulator: refresh-token import, rotation
persisted, revocation, re-authorization, accounts and roles, delete refused while used."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

import pinads.auth
from pinads.api import refresh_tokens
from pinads.auth import AdAccount, AuthorizerService, require_analytics_role
from pinads.auth.tokens import app_of, seal_tokens, tokens_of
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    FINANCE_ONLY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    SECOND_USER_ID,
    EmulatorConfig,
    InProcessTransport,
)
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.errors import AccessDeniedError, AuthError, ConfigError, StateError
from pinads.state import StoredTokens

from .conftest import IN_PROCESS_API_URL


def _add(service: AuthorizerService, tokens: IssuedTokens, label: str | None = None) -> int:
    authorizer = service.add_with_refresh_token(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=tokens.refresh_token,
        api_url=IN_PROCESS_API_URL,
        label=label,
    )
    return authorizer.id


def _stored_refresh(service: AuthorizerService, authorizer_id: int) -> str:
    record = service.db.authorizers.get(authorizer_id)
    return tokens_of(service.box, record).refresh_token.get_secret_value()


def test_import_refresh_token_identifies_user_and_rotates_it(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    authorizer = service.get(_add(service, emulator_tokens))
    assert authorizer.label == "hearth_home_marketing"
    assert authorizer.pinterest_user_id == DEFAULT_USER_ID
    assert authorizer.scopes == ("ads:read", "user_accounts:read")
    assert not authorizer.is_revoked
    # The imported token was exchanged: it is dead now, the stored one is new.
    assert _stored_refresh(service, authorizer.id) != emulator_tokens.refresh_token
    with pytest.raises(AuthError, match="re-authorize this authorizer"):
        refresh_tokens(
            app_of(service.box, service.db.authorizers.get(authorizer.id)),
            refresh_token=emulator_tokens.refresh_token,
            transport=service.transport,
        )
    with pytest.raises(ConfigError, match="labelled 'hearth_home_marketing' exists"):
        _add(service, emulator_tokens, label="hearth_home_marketing")


def test_labels_are_checked_and_defaults_made_unique(
    service: AuthorizerService, emulator_app: object
) -> None:
    state = emulator_app.state.emulator  # type: ignore[attr-defined]
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    first = _add(service, state.tokens.mint(info, now=state.now()))
    second = _add(service, state.tokens.mint(info, now=state.now()))
    assert service.get(second).label == "hearth_home_marketing-2"
    with pytest.raises(ConfigError, match="start with a letter"):
        _add(service, state.tokens.mint(info, now=state.now()), label="42")
    renamed = service.rename(first, "shop")
    assert service.get("shop").id == renamed.id == first
    assert service.get(str(first)).label == "shop"


def test_open_client_via_module_function_uses_the_loading_service(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    authorizer = service.get(_add(service, emulator_tokens, label="main"))
    with pinads.auth.open_client(authorizer) as client:
        assert client.user_account()["id"] == DEFAULT_USER_ID


def test_accounts_roles_and_the_insufficient_permissions_error(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    accounts = {a.id: a for a in service.accounts(_add(service, emulator_tokens))}
    assert accounts[LARGE_ADVERTISER_ID].roles == ("OWNER",)
    assert accounts[LARGE_ADVERTISER_ID].has_analytics_role
    finance = accounts[FINANCE_ONLY_ADVERTISER_ID]
    assert finance.roles == ("FINANCE_MANAGER",)
    assert not finance.has_analytics_role
    require_analytics_role(accounts[LARGE_ADVERTISER_ID])
    with pytest.raises(AccessDeniedError) as info:
        require_analytics_role(finance)
    assert str(info.value) == (
        f"insufficient permissions on ad account Sakura Kitchen ({FINANCE_ONLY_ADVERTISER_ID}): "
        "you have FINANCE_MANAGER; analytics need OWNER, ADMIN, ANALYST or CAMPAIGN_MANAGER — "
        "ask the account owner to grant one"
    )
    assert AdAccount(id="1", name="x").has_analytics_role is False


def test_test_reports_what_works(service: AuthorizerService, emulator_app: object) -> None:
    state = emulator_app.state.emulator  # type: ignore[attr-defined]
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    report = service.test(_add(service, state.tokens.mint(info, now=state.now()), label="x"))
    checks = {c.name: c for c in report.checks}
    assert not report.ok
    assert not checks["user account"].ok  # no user_accounts:read scope
    assert checks["ad accounts"].ok
    assert checks["ad accounts"].detail == "7 ad account(s), 5 with an analytics role"
    assert checks["scopes"].ok


def test_revoke_then_use_says_reauthorize_and_reauthorize_restores(
    service: AuthorizerService, emulator_app: object, emulator_tokens: IssuedTokens
) -> None:
    state = emulator_app.state.emulator  # type: ignore[attr-defined]
    authorizer_id = _add(service, emulator_tokens, label="main")
    old_refresh = _stored_refresh(service, authorizer_id)
    result = service.revoke("main")
    assert result.revoked_at_pinterest
    assert result.authorizer.is_revoked
    assert state.tokens.lookup(old_refresh, now=state.now()) is None
    with pytest.raises(AuthError, match="was revoked: re-authorize this authorizer"):
        service.open_client("main")
    assert service.revoke("main").detail == "already revoked"

    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    fresh = state.tokens.mint(info, now=state.now())
    restored = service.reauthorize("main", refresh_token=fresh.refresh_token)
    assert not restored.is_revoked and restored.id == authorizer_id
    assert service.test("main").ok

    other = TokenInfo(SECOND_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    stranger = state.tokens.mint(other, now=state.now())
    with pytest.raises(AuthError, match="belongs to hearth_home_marketing"):
        service.reauthorize("main", refresh_token=stranger.refresh_token)
    assert service.get("main").pinterest_user_id == DEFAULT_USER_ID


def test_token_revoked_at_pinterest_says_reauthorize(
    service: AuthorizerService, emulator_app: object, emulator_tokens: IssuedTokens
) -> None:
    _add(service, emulator_tokens, label="main")
    emulator_app.state.emulator.tokens.revoke_all()  # type: ignore[attr-defined]
    with pytest.raises(AuthError, match="re-authorize this authorizer"):
        service.test("main")


def test_delete_refused_while_a_source_uses_it(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    authorizer_id = _add(service, emulator_tokens, label="main")
    service.db.sources.create("daily", {"authorizer": "main"}, authorizer_id=authorizer_id)
    with pytest.raises(ConfigError, match=r"'main' is used by source\(s\) daily"):
        service.delete("main")
    service.db.sources.delete("daily")
    service.delete("main")
    assert service.list() == []


def test_sink_refuses_to_revive_a_revoked_authorizer(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    authorizer_id = _add(service, emulator_tokens, label="main")
    client = service.open_client("main")
    service.db.authorizers.mark_revoked(authorizer_id)
    late = StoredTokens(
        access_token_enc="x",
        refresh_token_enc="y",
        access_expires_at=datetime.now(UTC),
        refresh_expires_at=None,
        scopes=(),
    )
    with pytest.raises(StateError, match="revoked while in use"):
        service.db.authorizers.save_tokens(authorizer_id, late)
    client.close()


class TestRotation:
    """Access tokens that live one minute: every call refreshes (5-minute margin)."""

    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(seed=7, access_token_lifetime_days=1 / 1440)

    def test_ten_refreshes_keep_only_the_newest_refresh_token(
        self, service: AuthorizerService, emulator_tokens: IssuedTokens
    ) -> None:
        authorizer_id = _add(service, emulator_tokens, label="main")
        seen = [_stored_refresh(service, authorizer_id)]
        with service.open_client("main") as client:
            seen.append(_stored_refresh(service, authorizer_id))  # refreshed at open
            for _ in range(10):
                assert client.user_account()["id"] == DEFAULT_USER_ID
                stored = _stored_refresh(service, authorizer_id)
                assert stored == client.tokens.refresh_token.get_secret_value()
                seen.append(stored)
            assert client.stats.refreshes == 10
        assert len(set(seen)) == 12  # every rotation was persisted before the next one
        app = app_of(service.box, service.db.authorizers.get(authorizer_id))
        for old in seen[:-1]:
            with pytest.raises(AuthError, match="re-authorize this authorizer"):
                refresh_tokens(app, refresh_token=SecretStr(old), transport=service.transport)
        assert service.test("main").ok  # the newest one still works
        assert _stored_refresh(service, authorizer_id) not in seen

    def test_a_second_service_sees_the_rotation_of_the_first(
        self, emulator_transport: InProcessTransport, emulator_tokens: IssuedTokens
    ) -> None:
        with AuthorizerService(transport=emulator_transport) as first:
            _add(first, emulator_tokens, label="main")
            with first.open_client("main") as client:
                client.user_account()
        with AuthorizerService(transport=emulator_transport) as second:
            assert second.test("main").ok


def test_refresh_token_expiring_soon_is_renewed_on_use(
    service: AuthorizerService, emulator_tokens: IssuedTokens
) -> None:
    authorizer_id = _add(service, emulator_tokens, label="main")
    record = service.db.authorizers.get(authorizer_id)
    soon = datetime.now(UTC) + timedelta(days=3)
    tokens = tokens_of(service.box, record)
    service.db.authorizers.save_tokens(
        authorizer_id,
        seal_tokens(service.box, tokens.model_copy(update={"refresh_expires_at": soon})),
    )
    assert service.get("main").refresh_expires_within(timedelta(days=7), now=datetime.now(UTC))
    assert service.test("main").ok
    renewed = service.get("main")
    assert renewed.refresh_expires_at is not None and renewed.refresh_expires_at > soon


class _RotateFirst(httpx.BaseTransport):
    """Lets another process-like service rotate the token just before our first token call."""

    def __init__(self, inner: httpx.BaseTransport, before: Callable[[], None]) -> None:
        self.inner = inner
        self.before: Callable[[], None] | None = before

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token") and self.before is not None:
            before, self.before = self.before, None
            before()
        return self.inner.handle_request(request)


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(seed=7, access_token_lifetime_days=1 / 1440)]
)
def test_rotation_by_another_service_meanwhile_is_adopted_not_fatal(
    emulator_transport: InProcessTransport, emulator_tokens: IssuedTokens
) -> None:
    with AuthorizerService(transport=emulator_transport) as first:
        authorizer_id = _add(first, emulator_tokens, label="main")

        def rotate_elsewhere() -> None:
            first.open_client("main").close()  # refreshes at open and stores the new tokens

        racing = AuthorizerService(transport=_RotateFirst(emulator_transport, rotate_elsewhere))
        with racing, racing.open_client("main") as client:
            assert client.user_account()["id"] == DEFAULT_USER_ID
            assert client.tokens.refresh_token.get_secret_value() == _stored_refresh(
                first, authorizer_id
            )


def test_clients_of_one_pinterest_user_and_app_share_one_rate_budget(
    service: AuthorizerService, emulator_app: object, emulator_tokens: IssuedTokens
) -> None:
    _add(service, emulator_tokens, label="main")
    state = emulator_app.state.emulator  # type: ignore[attr-defined]
    scopes = frozenset({"ads:read", "user_accounts:read"})
    # the same user and app authorized twice (two labels): still one budget at Pinterest
    again = state.tokens.mint(TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, scopes), now=state.now())
    _add(service, again, label="main-again")
    other = state.tokens.mint(TokenInfo(SECOND_USER_ID, DEMO_CLIENT_ID, scopes), now=state.now())
    _add(service, other, label="second-user")
    with (
        service.open_client("main") as first,
        service.open_client("main") as second,
        service.open_client("main-again") as third,
        service.open_client("second-user") as stranger,
    ):
        assert first.budgets is second.budgets is third.budgets
        assert stranger.budgets is not first.budgets
        assert first.user_account()["id"] == DEFAULT_USER_ID
        assert stranger.user_account()["id"] == SECOND_USER_ID
