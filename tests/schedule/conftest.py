"""An authorizer opener backed by the in-process emulator, for scheduled runs end to end."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from pinads.api import OAuthApp, PinterestClient, TokenSet
from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from pinads.emulator.tokens import IssuedTokens

API_URL = "http://emulator.test/v5"


class _DiscardSink:
    """Tokens minted for one test need not outlive it."""

    def save(self, tokens: TokenSet) -> None:
        return None


@pytest.fixture
def emulator_opener(
    emulator_transport: httpx.BaseTransport, emulator_tokens: IssuedTokens
) -> Callable[[str], PinterestClient]:
    app = OAuthApp(
        client_id=DEMO_CLIENT_ID, client_secret=SecretStr(DEMO_CLIENT_SECRET), api_url=API_URL
    )
    tokens = TokenSet(
        access_token=SecretStr(emulator_tokens.access_token),
        access_expires_at=emulator_tokens.access_expires_at,
        refresh_token=SecretStr(emulator_tokens.refresh_token),
        refresh_expires_at=emulator_tokens.refresh_expires_at,
        scopes=tuple(sorted(emulator_tokens.scopes)),
    )

    def open_client(authorizer: str) -> PinterestClient:
        assert authorizer == "demo"
        return PinterestClient(app, tokens, _DiscardSink(), transport=emulator_transport)

    return open_client
