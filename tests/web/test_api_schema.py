"""The JSON API's OpenAPI document: the source body's schema and every error answer; and
POST /api/sources checks the destination as the wizard's Destination step does."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pinads.emulator import EUR_ADVERTISER_ID

ERRORS = {"400", "401", "403", "404", "409", "413", "429"}


def test_openapi_publishes_the_source_schema_and_every_error(
    client: TestClient, api_token: str
) -> None:
    """The source body was a free-form object; only 2xx and 422 answers were documented."""
    headers = {"Authorization": f"Bearer {api_token}"}
    document = client.get("/api/openapi.json", headers=headers).json()
    schemas = document["components"]["schemas"]
    source = schemas["SourceConfig"]
    assert {"name", "dataset", "click_window_days", "lookback_days"} <= set(source["properties"])
    assert source["additionalProperties"] is False
    for path, method in (("/api/sources", "post"), ("/api/sources/{name}", "put")):
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/SourceConfig"}
    for path, item in document["paths"].items():
        if path == "/api/health":  # no login, no input: it answers 200 or not at all
            continue
        for method, operation in item.items():
            assert set(operation["responses"]) >= ERRORS, (method, path)
    assert schemas["ErrorBody"]["required"] == ["detail"]


def test_create_checks_the_destination_like_the_wizard(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {api_token}"}
    body = {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": authorizer,
        "accounts": [EUR_ADVERTISER_ID],
        # Nothing listens on port 1: the wizard stops here at its Destination step.
        "destination": "postgresql://pinads@127.0.0.1:1/nowhere",
    }
    refused = client.post("/api/sources", headers=headers, json=body)
    assert refused.status_code in (400, 409), refused.text
    assert "127.0.0.1" in refused.json()["detail"]
    assert client.get("/api/sources", headers=headers).json() == []
    body["destination"] = f"duckdb:///{tmp_path}/ok.duckdb"
    assert client.post("/api/sources", headers=headers, json=body).status_code == 201
