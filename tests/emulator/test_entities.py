"""Entity lists: bookmark paging, status filters, id filters, array encoding, roles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinads.emulator import (
    AUDIENCE_ONLY_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
)

BASE = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}"
ALL_STATUSES = ["ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"]


def _walk(
    client: httpx.Client, path: str, headers: dict[str, str], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    bookmark = None
    for calls in range(1, 200):
        query = {**params, **({"bookmark": bookmark} if bookmark else {})}
        response = client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        bookmark = body["bookmark"]
        if bookmark is None:
            return items, calls
    raise AssertionError("paging did not end")


def test_thousand_campaigns_take_four_calls_of_250(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    items, calls = _walk(client, f"{BASE}/campaigns", headers, {"page_size": 250})
    assert calls == 4
    assert len(items) == 1000
    assert len({c["id"] for c in items}) == 1000
    assert {c["status"] for c in items} == {"ACTIVE", "PAUSED"}
    assert all(c["ad_account_id"] == LARGE_ADVERTISER_ID for c in items)


def test_default_page_size_is_25(client: httpx.Client, headers: dict[str, str]) -> None:
    body = client.get(f"{BASE}/campaigns", headers=headers).json()
    assert len(body["items"]) == 25
    assert isinstance(body["bookmark"], str)


def test_entity_statuses_as_repeated_keys(
    client: httpx.Client, raw_client: httpx.Client, headers: dict[str, str]
) -> None:
    params: dict[str, int | list[str]] = {"page_size": 250, "entity_statuses": ALL_STATUSES}
    first = client.get(f"{BASE}/campaigns", headers=headers, params=params)
    assert first.status_code == 200
    items, _ = _walk(raw_client, f"{BASE}/campaigns", headers, params)
    statuses = {c["status"] for c in items}
    assert "ARCHIVED" in statuses and len(items) > 1000
    archived, _ = _walk(
        client, f"{BASE}/campaigns", headers, {"page_size": 250, "entity_statuses": ["ARCHIVED"]}
    )
    assert {c["status"] for c in archived} == {"ARCHIVED"}
    assert {c["summary_status"] for c in archived} == {"ARCHIVED"}


def test_comma_joined_statuses_and_ids_are_accepted(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    repeated: dict[str, int | list[str]] = {
        "page_size": 250,
        "entity_statuses": ["ACTIVE", "PAUSED"],
    }
    joined: dict[str, int | str] = {"page_size": 250, "entity_statuses": "ACTIVE,PAUSED"}
    first = client.get(f"{BASE}/campaigns", headers=headers, params=joined)
    assert first.status_code == 200, first.text
    same = client.get(f"{BASE}/campaigns", headers=headers, params=repeated).json()
    assert first.json()["items"] == same["items"]
    ids = [c["id"] for c in first.json()["items"][:3]]
    by_ids = client.get(
        f"{BASE}/campaigns", headers=headers, params={"campaign_ids": ",".join(ids)}
    )
    assert sorted(c["id"] for c in by_ids.json()["items"]) == sorted(ids)
    wrong = client.get(
        f"{BASE}/campaigns", headers=headers, params={"entity_statuses": "ACTIVE,SLEEPING"}
    )
    assert wrong.json() == {"code": 400, "message": "Invalid ad account campaign parameters."}


def test_campaign_id_filter_and_its_limit(client: httpx.Client, headers: dict[str, str]) -> None:
    first = client.get(f"{BASE}/campaigns", headers=headers, params={"page_size": 5}).json()[
        "items"
    ]
    ids = [c["id"] for c in first]
    body = client.get(f"{BASE}/campaigns", headers=headers, params={"campaign_ids": ids}).json()
    assert sorted(c["id"] for c in body["items"]) == sorted(ids)
    assert body["bookmark"] is None
    too_many = [str(626_000_000_001 + n) for n in range(251)]
    response = client.get(f"{BASE}/campaigns", headers=headers, params={"campaign_ids": too_many})
    assert response.status_code == 400
    ok = client.get(f"{BASE}/campaigns", headers=headers, params={"campaign_ids": too_many[:250]})
    assert ok.status_code == 200


def test_ad_groups_and_ads_follow_their_parents(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    campaign = client.get(f"{BASE}/campaigns", headers=headers, params={"page_size": 1}).json()[
        "items"
    ][0]
    groups = client.get(
        f"{BASE}/ad_groups", headers=headers, params={"campaign_ids": [campaign["id"]]}
    ).json()["items"]
    assert groups and all(g["campaign_id"] == campaign["id"] for g in groups)
    ads = client.get(
        f"{BASE}/ads",
        headers=headers,
        params={"ad_group_ids": [g["id"] for g in groups], "entity_statuses": ALL_STATUSES},
    ).json()["items"]
    assert ads and {a["ad_group_id"] for a in ads} <= {g["id"] for g in groups}
    assert all(a["campaign_id"] == campaign["id"] for a in ads)


def test_ad_groups_take_only_one_filter(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(
        f"{BASE}/ad_groups", headers=headers, params={"campaign_ids": ["1"], "ad_group_ids": ["2"]}
    )
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "Invalid ad account group parameters."}


def test_large_advertiser_has_thousands_of_ads(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    items, calls = _walk(
        client, f"{BASE}/ads", headers, {"page_size": 250, "entity_statuses": ALL_STATUSES}
    )
    assert len(items) >= 5000
    assert calls == -(-len(items) // 250)
    assert {"REGULAR", "VIDEO", "SHOPPING"} <= {a["creative_type"] for a in items}


def test_descending_order_reverses(client: httpx.Client, headers: dict[str, str]) -> None:
    asc = client.get(
        f"{BASE}/campaigns", headers=headers, params={"page_size": 250, "order": "ASCENDING"}
    ).json()
    desc = client.get(
        f"{BASE}/campaigns", headers=headers, params={"page_size": 250, "order": "DESCENDING"}
    ).json()
    assert asc["items"][0]["id"] != desc["items"][0]["id"]
    assert int(desc["items"][0]["id"]) > int(desc["items"][1]["id"])


def test_bookmark_of_another_query_is_refused(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    bookmark = client.get(f"{BASE}/campaigns", headers=headers).json()["bookmark"]
    response = client.get(f"{BASE}/ads", headers=headers, params={"bookmark": bookmark})
    assert response.status_code == 400


def test_keywords_by_ad_group(client: httpx.Client, headers: dict[str, str]) -> None:
    groups = client.get(f"{BASE}/ad_groups", headers=headers, params={"page_size": 250}).json()
    ids = [g["id"] for g in groups["items"]]
    body = client.get(
        f"{BASE}/keywords", headers=headers, params={"ad_group_ids": ids, "page_size": 250}
    ).json()
    assert body["items"]
    assert {k["parent_id"] for k in body["items"]} <= set(ids)
    assert {k["match_type"] for k in body["items"]} <= {"BROAD", "PHRASE", "EXACT"}
    account_level = client.get(f"{BASE}/keywords", headers=headers).json()
    assert account_level == {"items": [], "bookmark": None}


def test_audiences_customer_lists_and_conversion_tags(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    audiences = client.get(f"{BASE}/audiences", headers=headers).json()
    assert len(audiences["items"]) == 4
    received = client.get(
        f"{BASE}/audiences", headers=headers, params={"ownership_type": "RECEIVED"}
    ).json()
    assert received["items"] == []
    lists = client.get(f"{BASE}/customer_lists", headers=headers).json()
    assert len(lists["items"]) == 3
    tags = client.get(f"{BASE}/conversion_tags", headers=headers).json()
    assert set(tags) == {"items"}
    assert len(tags["items"]) == 4
    live = client.get(
        f"{BASE}/conversion_tags", headers=headers, params={"filter_deleted": "true"}
    ).json()
    assert len(live["items"]) == 3


def test_product_group_promotions_need_a_filter(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    assert client.get(f"{BASE}/product_group_promotions", headers=headers).status_code == 400
    ads = client.get(f"{BASE}/ads", headers=headers, params={"page_size": 250}).json()["items"]
    shopping = next(a for a in ads if a["creative_type"] == "SHOPPING")
    body = client.get(
        f"{BASE}/product_group_promotions",
        headers=headers,
        params={"ad_group_id": shopping["ad_group_id"]},
    ).json()
    assert body["items"] and all(p["ad_group_id"] == shopping["ad_group_id"] for p in body["items"])
    ids = [p["id"] for p in body["items"]]
    again = client.get(
        f"{BASE}/product_group_promotions",
        headers=headers,
        params={"product_group_promotion_ids": ids},
    ).json()
    assert [p["id"] for p in again["items"]] == ids


@pytest.mark.parametrize("path", ["campaigns", "ad_groups", "ads", "conversion_tags"])
def test_finance_manager_cannot_list_ads_entities(
    client: httpx.Client, headers: dict[str, str], path: str
) -> None:
    response = client.get(f"/v5/ad_accounts/{FINANCE_ONLY_ADVERTISER_ID}/{path}", headers=headers)
    assert response.status_code == 403
    assert response.json() == {
        "code": 29,
        "message": "You are not permitted to access that resource.",
    }


def test_audience_manager_may_list_audiences_but_not_campaigns(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    base = f"/v5/ad_accounts/{AUDIENCE_ONLY_ADVERTISER_ID}"
    assert client.get(f"{base}/audiences", headers=headers).status_code == 200
    assert client.get(f"{base}/campaigns", headers=headers).status_code == 403
