"""Pinterest misbehaving in ways the emulator does not offer, simulated with MockTransport.

Only the *server* is simulated here; all of pinads' code runs for real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from pinads.api import OAuthApp, PinterestClient, RetryPolicy, TokenSet
from pinads.errors import ExtractError, RetriableApiError

APP = OAuthApp(client_id="cid", client_secret=SecretStr("csecret"), api_url="http://pin.test/v5")


class ListSink:
    def __init__(self) -> None:
        self.saved: list[TokenSet] = []

    def save(self, tokens: TokenSet) -> None:
        self.saved.append(tokens)


def _tokens() -> TokenSet:
    return TokenSet(
        access_token=SecretStr("pina_access_token_value"),
        access_expires_at=datetime.now(UTC) + timedelta(days=30),
        refresh_token=SecretStr("pinr_refresh_token_value"),
        refresh_expires_at=datetime.now(UTC) + timedelta(days=60),
        scopes=("ads:read",),
    )


def test_repeated_bookmark_is_caught() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        page = len(calls)
        # Pages 1 and 2 hand out bookmarks "b1" and "b2"; page 3 hands out "b1" again.
        bookmark = {1: "b1", 2: "b2", 3: "b1"}[page]
        return httpx.Response(200, json={"items": [{"id": str(page)}], "bookmark": bookmark})

    client = PinterestClient(APP, _tokens(), ListSink(), transport=httpx.MockTransport(handler))
    seen: list[str] = []
    with client, pytest.raises(ExtractError, match="same page bookmark twice"):
        seen.extend(item["id"] for item in client.iter_items("/ad_accounts/1/campaigns"))
    assert seen == ["1", "2", "3"]
    assert len(calls) == 3
    assert calls[1].url.params["bookmark"] == "b1"
    assert calls[0].url.params["page_size"] == "250"


def test_truncated_json_is_retried_then_fails_clearly() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, content=b'{"items": [{"id": "1"')

    sleeps: list[float] = []
    client = PinterestClient(
        APP,
        _tokens(),
        ListSink(),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=3),
        sleep=sleeps.append,
    )
    with client, pytest.raises(RetriableApiError, match=r"not valid JSON.*gave up after 3"):
        client.get_json("/ad_accounts/1/campaigns")
    assert calls == 3
    assert len(sleeps) == 2


def test_list_without_items_is_an_extract_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": []}))
    with (
        PinterestClient(APP, _tokens(), ListSink(), transport=transport) as client,
        pytest.raises(ExtractError, match="no `items` list"),
    ):
        list(client.iter_items("/ad_accounts"))
