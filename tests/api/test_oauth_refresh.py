"""OAuth against the emulator: code exchange, proactive/reactive refresh, rotation, revoke."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from pinads.api import PinterestClient, TokenSet, consent_url, exchange_code, refresh_tokens
from pinads.api.models import utc_now
from pinads.api.oauth import revoke_token
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EmulatorConfig,
    EmulatorState,
)
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.errors import AccessDeniedError, AuthError, StateError

from .conftest import Journal, RecordingSink, RecordingTransport, demo_app, token_set

REDIRECT = "http://127.0.0.1:8765/callback"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
MONTH_DAYS = 31  # past the 30-day access token, within the 60-day refresh token


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, auto_approve=True)


def _code_from_consent(transport: httpx.BaseTransport, url: str) -> tuple[str, str]:
    with httpx.Client(transport=transport) as http:
        response = http.get(url)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0], query["state"][0]


def test_code_exchange_end_to_end(emulator_transport: httpx.BaseTransport) -> None:
    app = demo_app()
    url = consent_url(
        app, redirect_uri=REDIRECT, scopes=("ads:read", "user_accounts:read"), state="st4te"
    )
    assert url.startswith("http://emulator.test/oauth/?")
    code, state = _code_from_consent(emulator_transport, url)
    assert state == "st4te"
    tokens = exchange_code(app, code=code, redirect_uri=REDIRECT, transport=emulator_transport)
    assert set(tokens.scopes) == {"ads:read", "user_accounts:read"}
    assert tokens.refresh_expires_at is not None
    with PinterestClient(app, tokens, RecordingSink(), transport=emulator_transport) as client:
        assert client.user_account()["username"]
    # A code is single use.
    with pytest.raises(AuthError, match="authorization code was refused"):
        exchange_code(app, code=code, redirect_uri=REDIRECT, transport=emulator_transport)


def test_bad_client_secret_names_client_not_secret(
    emulator_transport: httpx.BaseTransport,
) -> None:
    app = demo_app()
    url = consent_url(app, redirect_uri=REDIRECT, scopes=("ads:read",), state="s")
    code, _ = _code_from_consent(emulator_transport, url)
    wrong = demo_app(secret="not-the-secret-xyz")
    with pytest.raises(AuthError) as info:
        exchange_code(wrong, code=code, redirect_uri=REDIRECT, transport=emulator_transport)
    assert DEMO_CLIENT_ID in str(info.value)
    assert "not-the-secret-xyz" not in str(info.value)
    assert "client secret" in str(info.value)


def test_proactive_refresh_before_expiry(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    recording: RecordingTransport,
    journal: Journal,
) -> None:
    sink = RecordingSink(journal)
    client = PinterestClient(
        demo_app(), token_set(emulator_tokens), sink, transport=recording, clock=emulator.now
    )
    emulator.advance(days=MONTH_DAYS)
    with client:
        assert client.user_account()["id"] == DEFAULT_USER_ID
    assert len(sink.saved) == 1
    assert client.tokens == sink.saved[0]
    # No 401 round trip: the refresh came first.
    assert journal.requests() == ["POST /v5/oauth/token", "GET /v5/user_account"]
    assert client.stats.refreshes == 1
    refresh = recording.sent[0]
    form = parse_qs(refresh.content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["continuous_refresh"] == ["true"]  # needed by apps created before 2025-09-25
    assert refresh.headers["authorization"].startswith("Basic ")


def test_reactive_refresh_on_401_replays_once(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    recording: RecordingTransport,
    journal: Journal,
) -> None:
    sink = RecordingSink(journal)
    # The client's own clock (real time) thinks the token is fresh; the emulator's says no.
    client = PinterestClient(demo_app(), token_set(emulator_tokens), sink, transport=recording)
    emulator.advance(days=MONTH_DAYS)
    with client:
        assert client.user_account()["id"] == DEFAULT_USER_ID
    assert journal.requests() == [
        "GET /v5/user_account",
        "POST /v5/oauth/token",
        "GET /v5/user_account",
    ]
    assert len(sink.saved) == 1


def _assert_saved_before_used(journal: Journal, sink: RecordingSink) -> None:
    events = journal.events
    for saved in sink.saved:
        token = saved.access_token.get_secret_value()
        first_use = next(i for i, e in enumerate(events) if e == ("bearer", token))
        assert events.index(("saved", token)) < first_use


def test_ten_refreshes_only_newest_refresh_token_works(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    recording: RecordingTransport,
    journal: Journal,
    emulator_transport: httpx.BaseTransport,
) -> None:
    sink = RecordingSink(journal)
    first = token_set(emulator_tokens)
    for round_ in range(10):
        emulator.advance(days=MONTH_DAYS)
        # Each round is a new run starting from the newest stored tokens; even rounds refresh
        # proactively (client clock = emulator clock), odd ones on the 401 (real clock).
        clock = emulator.now if round_ % 2 == 0 else utc_now
        latest = sink.saved[-1] if sink.saved else first
        with PinterestClient(demo_app(), latest, sink, transport=recording, clock=clock) as client:
            assert client.user_account()["id"] == DEFAULT_USER_ID
    assert len(sink.saved) == 10
    _assert_saved_before_used(journal, sink)
    refresh_values = [first.refresh_token] + [t.refresh_token for t in sink.saved]
    assert len({r.get_secret_value() for r in refresh_values}) == 11
    for old in refresh_values[:-1]:
        with pytest.raises(AuthError, match="re-authorize this authorizer"):
            refresh_tokens(demo_app(), refresh_token=old, transport=emulator_transport)
    newest = refresh_tokens(
        demo_app(), refresh_token=refresh_values[-1], transport=emulator_transport
    )
    assert newest.access_token.get_secret_value().startswith("pina_")


def test_revoked_token_says_reauthorize(
    emulator: EmulatorState, emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    app = demo_app()
    revoke_token(
        app,
        token=SecretStr(emulator_tokens.refresh_token),
        token_type_hint="refresh_token",
        transport=emulator_transport,
    )
    sink = RecordingSink()
    client = PinterestClient(app, token_set(emulator_tokens), sink, transport=emulator_transport)
    with client, pytest.raises(AuthError, match="re-authorize this authorizer") as info:
        client.user_account()
    assert emulator_tokens.refresh_token not in str(info.value)
    assert emulator_tokens.access_token not in str(info.value)
    assert sink.saved == []


def test_threads_share_one_refresh(
    emulator: EmulatorState, emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    sink = RecordingSink()
    client = PinterestClient(
        demo_app(), token_set(emulator_tokens), sink, transport=emulator_transport
    )
    # Warm up: the in-process transport starts its event-loop thread on first use.
    client.user_account()
    emulator.advance(days=MONTH_DAYS)
    answered: list[str] = []

    def work() -> None:
        answered.append(client.user_account()["id"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answered == [DEFAULT_USER_ID] * 8
    assert len(sink.saved) == 1


class FailingSink:
    def save(self, tokens: TokenSet) -> None:
        raise StateError("control DB is read-only: fix its permissions")


def test_unsaved_tokens_are_never_used(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    recording: RecordingTransport,
    journal: Journal,
) -> None:
    client = PinterestClient(
        demo_app(),
        token_set(emulator_tokens),
        FailingSink(),
        transport=recording,
        clock=emulator.now,
    )
    emulator.advance(days=MONTH_DAYS)
    with client, pytest.raises(StateError):
        client.user_account()
    bearers = [d for k, d in journal.events if k == "bearer"]
    assert bearers == []
    assert client.tokens.access_token.get_secret_value() == emulator_tokens.access_token


def test_missing_scope_is_access_denied(
    emulator: EmulatorState, emulator_transport: httpx.BaseTransport
) -> None:
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    issued = emulator.tokens.mint(info, now=emulator.now())
    with (
        PinterestClient(
            demo_app(), token_set(issued), RecordingSink(), transport=emulator_transport
        ) as client,
        pytest.raises(AccessDeniedError, match="scope"),
    ):
        client.user_account()


def test_expired_refresh_token_fails_without_a_call(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    recording: RecordingTransport,
    journal: Journal,
) -> None:
    tokens = token_set(emulator_tokens).model_copy(
        update={"refresh_expires_at": LONG_AGO, "access_expires_at": LONG_AGO}
    )
    client = PinterestClient(demo_app(), tokens, RecordingSink(), transport=recording)
    with client, pytest.raises(AuthError, match=r"refresh token expired.*re-authorize"):
        client.user_account()
    assert journal.requests() == []
    assert DEMO_CLIENT_SECRET not in str(journal.events)
