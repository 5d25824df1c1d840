"""A tiny Pinterest stand-in on httpx.MockTransport for runner unit tests.

It is not the emulator (tests/e2e use that): it serves just enough of `/ad_accounts`,
`/campaigns` and `/campaigns/analytics` with deterministic numbers, counting every call, so the
runner's composition (plan, steps, checkpoints, Arrow types) is tested without a server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from pinads.api import OAuthApp, PinterestClient, TokenSet

ACCOUNT = "549755813901"
NO_ROLE_ACCOUNT = "549755813902"


def spend(campaign_id: str, day: date) -> int:
    return (int(campaign_id) * 7919 + day.toordinal() * 104729) % 9_000_000_000 + 10**12


def impressions(campaign_id: str, day: date) -> int:
    return (int(campaign_id) + day.toordinal()) % 5000


class FakePinterest:
    def __init__(self, *, campaigns: int = 3, empty: bool = False) -> None:
        self.campaign_ids = [str(700_000 + i) for i in range(campaigns)]
        self.calls: list[str] = []
        self.empty = empty

    def campaign_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        rows = []
        day = start
        while day <= end:
            for cid in self.campaign_ids:
                rows.append(
                    {
                        "DATE": day.isoformat(),
                        "CAMPAIGN_ID": cid,
                        "SPEND_IN_MICRO_DOLLAR": spend(cid, day),
                        "IMPRESSION_1": impressions(cid, day),
                    }
                )
            day += timedelta(days=1)
        return rows

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v5")
        self.calls.append(path)
        if path == "/ad_accounts":
            return httpx.Response(
                200,
                json={
                    "items": [
                        {
                            "id": ACCOUNT,
                            "name": "Shop",
                            "currency": "EUR",
                            "permissions": ["OWNER"],
                        },
                        {
                            "id": NO_ROLE_ACCOUNT,
                            "name": "Fin",
                            "currency": "USD",
                            "permissions": ["FINANCE_MANAGER"],
                        },
                    ],
                    "bookmark": None,
                },
            )
        if path.endswith("/campaigns"):
            items = [
                {"id": c, "name": f"Campaign {c}", "status": "ACTIVE"} for c in self.campaign_ids
            ]
            return httpx.Response(200, json={"items": items, "bookmark": None})
        if path.endswith("/campaigns/analytics"):
            if self.empty:
                return httpx.Response(200, json=[])
            params = request.url.params
            start = date.fromisoformat(params["start_date"])
            end = date.fromisoformat(params["end_date"])
            wanted = set(params.get_list("campaign_ids"))
            rows = [r for r in self.campaign_rows(start, end) if r["CAMPAIGN_ID"] in wanted]
            columns = set(params["columns"].split(","))
            rows = [
                {k: v for k, v in r.items() if k in columns or k in ("DATE", "CAMPAIGN_ID")}
                for r in rows
            ]
            return httpx.Response(200, json=rows)
        return httpx.Response(404, json={"code": 2, "message": "not found"})


class _Sink:
    def save(self, tokens: TokenSet) -> None:
        return None


def fake_client(fake: FakePinterest) -> PinterestClient:
    app = OAuthApp(client_id="x", client_secret=SecretStr("y"), api_url="https://fake/v5")
    tokens = TokenSet(
        access_token=SecretStr("pina_test_access_token"),
        access_expires_at=datetime.now(UTC) + timedelta(days=30),
        refresh_token=SecretStr("pinr_test_refresh_token"),
        refresh_expires_at=datetime.now(UTC) + timedelta(days=60),
        scopes=("ads:read",),
    )
    return PinterestClient(app, tokens, _Sink(), transport=httpx.MockTransport(fake))
