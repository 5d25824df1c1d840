"""`GET /v5/resources/targeting/{targeting_type}`: names of the codes the breakdowns report."""

from __future__ import annotations

import httpx

from pinads.emulator import EUR_ADVERTISER_ID


def test_location_codes_have_names(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get("/v5/resources/targeting/LOCATION", headers=headers)
    assert response.status_code == 200, response.text
    [options] = response.json()
    assert options["501"] == "U.S.: New York"
    assert options["803"] == "U.S.: Los Angeles"


def test_geo_ids_are_named_by_country_and_area(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    params = {"ad_account_id": EUR_ADVERTISER_ID}
    [options] = client.get("/v5/resources/targeting/GEO", headers=headers, params=params).json()
    assert options["FR:501"] == "France: area 501"
    assert options["US:602"] == "U.S.: Chicago"


def test_unknown_type_and_missing_token(client: httpx.Client, headers: dict[str, str]) -> None:
    wrong = client.get("/v5/resources/targeting/COUNTRY", headers=headers)
    assert wrong.status_code == 400
    assert client.get("/v5/resources/targeting/LOCATION").status_code == 401
    assert client.get("/v5/resources/targeting/KEYWORD", headers=headers).json() == []
