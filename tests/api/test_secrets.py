"""No token, client secret or signed link ever reaches a log line or an error message."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pinads.api import PinterestClient, exchange_code, refresh_tokens
from pinads.emulator import DEMO_CLIENT_SECRET, EmulatorState
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import PinadsError

from .conftest import RecordingSink, demo_app, token_set

MONTH_DAYS = 31
FAR = datetime.now(UTC) + timedelta(days=30)


def _assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def test_no_secret_in_logs_or_errors(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    emulator_transport: httpx.BaseTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    sink = RecordingSink()
    app = demo_app()
    with PinterestClient(app, token_set(emulator_tokens), sink, transport=emulator_transport) as c:
        emulator.advance(days=MONTH_DAYS)
        c.user_account()  # 401, refresh, replay
        c.get_json("/ad_accounts")
        for path in ("/ad_accounts/1/campaigns", "/ad_accounts/999999999/analytics"):
            with pytest.raises(PinadsError) as info:
                c.get_json(path, {"columns": ["SPEND_IN_DOLLAR"]})
            messages.append(str(info.value))
    attempts: tuple[Callable[[], object], ...] = (
        lambda: refresh_tokens(
            app, refresh_token=emulator_tokens.refresh_token, transport=emulator_transport
        ),
        lambda: exchange_code(
            demo_app(secret="wrong-secret-value"),
            code="bogus",
            redirect_uri="http://127.0.0.1:1/cb",
            transport=emulator_transport,
        ),
        lambda: exchange_code(
            app,
            code="bogus-code-value",
            redirect_uri="http://127.0.0.1:1/cb",
            transport=emulator_transport,
        ),
    )
    for attempt in attempts:
        with pytest.raises(PinadsError) as info:
            attempt()
        messages.append(str(info.value))
    secrets = [
        emulator_tokens.access_token,
        emulator_tokens.refresh_token,
        DEMO_CLIENT_SECRET,
        "wrong-secret-value",
        "bogus-code-value",
    ]
    for saved in sink.saved:
        secrets += [saved.access_token.get_secret_value(), saved.refresh_token.get_secret_value()]
    assert len(sink.saved) == 1
    assert len(messages) == 5
    _assert_clean("\n".join(messages), secrets)
    _assert_clean(caplog.text, secrets)
    _assert_clean(repr(sink.saved), secrets)


def test_signed_download_link_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A pre-signed S3 link carries its signature in the query string (simulated S3)."""
    caplog.set_level(logging.DEBUG)
    signed = "https://bucket.s3.amazonaws.com/async/report.txt?X-Amz-Signature=SIGSECRET123"

    def s3(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        status = 200 if request.url.params.get("X-Amz-Signature") == "SIGSECRET123" else 403
        return httpx.Response(status, content=b"a,b\n1,2\n")

    tokens = token_set(IssuedTokens("pina_x" * 4, FAR, "pinr_y" * 4, FAR, frozenset({"ads:read"})))
    client = PinterestClient(demo_app(), tokens, RecordingSink(), transport=httpx.MockTransport(s3))
    sink = io.BytesIO()
    with client:
        assert client.download(signed, sink) == 8
        with pytest.raises(PinadsError) as info:
            client.download(signed.replace("SIGSECRET123", "SIGSECRET999"), io.BytesIO())
    assert sink.getvalue() == b"a,b\n1,2\n"
    assert "report.txt" in caplog.text
    _assert_clean(caplog.text + str(info.value), ["SIGSECRET123", "SIGSECRET999"])
