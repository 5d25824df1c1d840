"""Bookmark paging against the emulator: 1,000 campaigns in exactly four calls."""

from __future__ import annotations

import httpx

from pinads.api import PinterestClient
from pinads.emulator import LARGE_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens

from .conftest import Journal, RecordingSink, RecordingTransport, demo_app, token_set


def test_thousand_campaigns_in_four_calls(
    emulator_tokens: IssuedTokens, recording: RecordingTransport, journal: Journal
) -> None:
    path = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
    with PinterestClient(
        demo_app(), token_set(emulator_tokens), RecordingSink(), transport=recording
    ) as client:
        campaigns = list(client.iter_items(path))
        stats = client.stats
    assert len(campaigns) == 1000
    assert len({c["id"] for c in campaigns}) == 1000
    assert all(c["ad_account_id"] == LARGE_ADVERTISER_ID for c in campaigns)
    assert journal.requests() == [f"GET /v5{path}"] * 4
    assert stats.calls_by_category == {"ads_read": 4}
    pages = [r for r in recording.sent if r.url.path.endswith("/campaigns")]
    assert [r.url.params.get("page_size") for r in pages] == ["250"] * 4
    assert "bookmark" not in pages[0].url.params
    assert all(r.url.params.get("bookmark") for r in pages[1:])


def test_repeated_keys_for_status_filter(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    path = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
    every_status = ["ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"]
    with PinterestClient(
        demo_app(), token_set(emulator_tokens), RecordingSink(), transport=emulator_transport
    ) as client:
        default = sum(1 for _ in client.iter_items(path))
        everything = list(client.iter_items(path, {"entity_statuses": every_status}))
    assert default == 1000
    assert len(everything) > 1000
    assert {c["status"] for c in everything} - {"ACTIVE", "PAUSED"}


def test_ad_accounts_with_roles(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    with PinterestClient(
        demo_app(), token_set(emulator_tokens), RecordingSink(), transport=emulator_transport
    ) as client:
        accounts = client.ad_accounts()
    ids = {a["id"] for a in accounts}
    assert LARGE_ADVERTISER_ID in ids
    assert all(isinstance(a.get("permissions"), list) for a in accounts)
