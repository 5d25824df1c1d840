"""The JSON API in-process: every endpoint, API-token and session auth, CSRF refusals."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
from fastapi.testclient import TestClient

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.web.users import WebUsers

from .conftest import ADMIN, Browser


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _source(tmp_path: Path, name: str = "shop") -> dict[str, Any]:
    return {
        "name": name,
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_7_days",
        "destination": f"duckdb:///{tmp_path}/api.duckdb",
    }


def _wait(client: TestClient, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job = client.get(f"/api/jobs/{job_id}", headers=_auth(token)).json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_no_credentials_no_access(client: TestClient) -> None:
    for path in ("/api/me", "/api/authorizers", "/api/sources", "/api/datasets", "/api/runs"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "API token" in response.json()["detail"]
    assert client.get("/api/health").json() == {"status": "ok"}  # liveness needs no login
    assert client.get("/api/me", headers=_auth("pinads_wrong")).status_code == 401


def test_api_token_works_and_needs_no_csrf(client: TestClient, api_token: str) -> None:
    assert client.get("/api/me", headers=_auth(api_token)).json() == {
        "username": ADMIN,
        "role": "admin",
    }
    response = client.post(
        "/api/validate-selection",
        headers=_auth(api_token),
        json={
            "dataset": "campaign_analytics",
            "attributes": ["DATE", "CAMPAIGN_ID"],
            "metrics": ["SPEND_IN_MICRO_DOLLAR"],
        },
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "problems": []}


def test_deleted_token_is_refused(client: TestClient, api_token: str, web_store: WebUsers) -> None:
    (info,) = web_store.tokens()
    assert info.last_used_at is None
    assert client.get("/api/me", headers=_auth(api_token)).status_code == 200
    assert web_store.tokens()[0].last_used_at is not None
    web_store.delete_token(info.id)
    assert client.get("/api/me", headers=_auth(api_token)).status_code == 401


def test_session_api_calls_need_the_csrf_header(browser: Browser) -> None:
    client = browser.client
    assert client.get("/api/me").json() == {"username": ADMIN, "role": "admin"}
    body = {"dataset": "campaigns", "attributes": ["ID"]}
    refused = client.post("/api/validate-selection", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = client.post("/api/validate-selection", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = client.post("/api/validate-selection", json=body, headers={"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 200


def test_catalog_endpoints(client: TestClient, api_token: str) -> None:
    found = client.get("/api/datasets", params={"q": "age bucket"}, headers=_auth(api_token))
    names = [d["name"] for d in found.json()]
    assert "campaign_by_age_bucket" in names
    by_metric = client.get(
        "/api/datasets", params={"q": "TOTAL_CHECKOUT"}, headers=_auth(api_token)
    )
    matched = {d["name"]: d["matched"] for d in by_metric.json()}
    assert matched["campaign_analytics"].startswith("metrics: TOTAL_CHECKOUT")
    by_name = client.get("/api/datasets", params={"q": "campaigns"}, headers=_auth(api_token))
    assert {d["name"]: d["matched"] for d in by_name.json()}["campaigns"] == ""
    every = client.get("/api/datasets", headers=_auth(api_token)).json()
    assert len(every) > len(names)
    details = client.get("/api/datasets/campaign_analytics", headers=_auth(api_token)).json()
    assert details["name"] == "campaign_analytics" and details["metrics"]
    assert client.get("/api/datasets/nope", headers=_auth(api_token)).status_code == 404
    bad = client.post(
        "/api/validate-selection",
        headers=_auth(api_token),
        json={
            "dataset": "campaign_analytics",
            "attributes": ["DATE", "NOPE"],
            "granularity": "HOUR",
            "metrics": ["TOTAL_CONVERSIONS"],
        },
    ).json()
    assert bad["ok"] is False
    assert {p["field"] for p in bad["problems"]} >= {"attributes"}


def test_authorizer_endpoints(
    client: TestClient, api_token: str, emulator_server: EmulatorServer
) -> None:
    headers = _auth(api_token)
    minted = httpx.post(
        f"{emulator_server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    created = client.post(
        "/api/authorizers",
        headers=headers,
        json={
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": minted["refresh_token"],
            "api_url": emulator_server.api_url,
            "label": "demo",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["label"] == "demo" and "refresh_token" not in str(body)
    assert [a["label"] for a in client.get("/api/authorizers", headers=headers).json()] == ["demo"]
    assert client.get("/api/authorizers/demo", headers=headers).json()["id"] == body["id"]
    assert client.get("/api/authorizers/nope", headers=headers).status_code == 404
    renamed = client.patch("/api/authorizers/demo", headers=headers, json={"label": "shop"})
    assert renamed.json()["label"] == "shop"
    bad_label = client.patch("/api/authorizers/shop", headers=headers, json={"label": "9x"})
    assert bad_label.status_code == 400 and "not allowed" in bad_label.json()["detail"]
    accounts = client.get("/api/authorizers/shop/accounts", headers=headers).json()
    assert any(a["id"] == EUR_ADVERTISER_ID and a["roles"] for a in accounts)
    report = client.post("/api/authorizers/shop/test", headers=headers).json()
    assert report["checks"] and all(c["ok"] for c in report["checks"])
    revoked = client.post("/api/authorizers/shop/revoke", headers=headers).json()
    assert revoked["revoked_at_pinterest"] is True
    assert client.delete("/api/authorizers/shop", headers=headers).status_code == 204
    assert client.get("/api/authorizers", headers=headers).json() == []


def test_source_endpoints_preview_run_and_history(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = _auth(api_token)
    invalid = client.post(
        "/api/sources", headers=headers, json={**_source(tmp_path), "metrics": ["NOPE"]}
    )
    assert invalid.status_code == 400 and "NOPE" in invalid.json()["detail"]
    created = client.post("/api/sources", headers=headers, json=_source(tmp_path))
    assert created.status_code == 201, created.text
    assert created.json()["schedule"] == "manual" and created.json()["last_run"] is None
    assert [s["name"] for s in client.get("/api/sources", headers=headers).json()] == ["shop"]
    assert client.get("/api/sources/nope", headers=headers).status_code == 404

    preview = client.post("/api/preview", headers=headers, json={"source": _source(tmp_path)})
    assert preview.status_code == 200, preview.text
    assert preview.json()["diagnosis"] == "data" and preview.json()["rows"]
    half = client.post(
        "/api/preview", headers=headers, json={"source": _source(tmp_path), "start": "2026-01-01"}
    )
    assert half.status_code == 400

    started = client.post("/api/sources/shop/run", headers=headers)
    assert started.status_code == 202
    job = _wait(client, api_token, started.json()["id"])
    assert job["status"] == "succeeded", job
    rows = job["result"]["rows_written"]
    assert rows > 0
    with duckdb.connect(str(tmp_path / "api.duckdb"), read_only=True) as con:
        count = con.execute("SELECT count(*) FROM shop").fetchone()
    assert count is not None and count[0] == rows
    history = client.get("/api/sources/shop/runs", headers=headers).json()
    assert history[0]["status"] == "succeeded" and history[0]["rows_written"] == rows
    assert client.get("/api/runs", headers=headers).json()[0]["id"] == history[0]["id"]
    view = client.get("/api/sources/shop", headers=headers).json()
    assert view["last_run"]["id"] == history[0]["id"]

    replaced = client.put(
        "/api/sources/shop", headers=headers, json={**_source(tmp_path), "schedule": "daily 06:00"}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["schedule"].startswith("daily at 06:00")
    assert replaced.json()["next_run"] is not None
    renamed = client.put("/api/sources/shop", headers=headers, json=_source(tmp_path, "other"))
    assert renamed.status_code == 400
    assert client.delete("/api/sources/shop", headers=headers).status_code == 204
    assert client.get("/api/sources", headers=headers).json() == []
    assert client.get("/api/jobs/nope", headers=headers).status_code == 404


def test_source_endpoint_takes_dataddo_write_modes(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = _auth(api_token)
    document = {**_source(tmp_path), "write_mode": "insert ignore"}
    created = client.post("/api/sources", headers=headers, json=document)
    assert created.status_code == 201, created.text
    assert client.get("/api/sources/shop", headers=headers).json()["config"]["write_mode"] == (
        "insert_ignore"
    )
    bad = client.post(
        "/api/sources", headers=headers, json={**_source(tmp_path, "other"), "write_mode": "merge"}
    )
    assert bad.status_code == 400 and "write_mode" in bad.json()["detail"]


def test_backfill_endpoint(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = _auth(api_token)
    client.post("/api/sources", headers=headers, json=_source(tmp_path))
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=130), today - timedelta(days=125)
    started = client.post(
        "/api/sources/shop/backfill",
        headers=headers,
        json={"start": start.isoformat(), "end": end.isoformat()},
    )
    assert started.status_code == 202, started.text
    job = _wait(client, api_token, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["kind"] == "backfill" and job["result"]["rows_written"] > 0
    with duckdb.connect(str(tmp_path / "api.duckdb"), read_only=True) as con:
        days = con.execute("SELECT min(date), max(date) FROM shop").fetchone()
    assert days == (start, end)
    backwards = client.post(
        "/api/sources/shop/backfill",
        headers=headers,
        json={"start": end.isoformat(), "end": start.isoformat()},
    )
    assert backwards.status_code in (400, 422)


def test_backfill_restart_runs_every_batch_again(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = _auth(api_token)
    client.post("/api/sources", headers=headers, json=_source(tmp_path))
    today = datetime.now(UTC).date()
    span = {"start": str(today - timedelta(days=130)), "end": str(today - timedelta(days=125))}
    skipped = []
    for body in (span, span, {**span, "restart": True}):
        started = client.post("/api/sources/shop/backfill", headers=headers, json=body)
        assert started.status_code == 202, started.text
        job = _wait(client, api_token, started.json()["id"])
        assert job["status"] == "succeeded", job
        skipped.append((job["result"]["steps_skipped"], job["result"]["steps"]))
    (first, steps), (resumed, _), (restarted, _) = skipped
    assert (first, resumed, restarted) == (0, steps, 0)
