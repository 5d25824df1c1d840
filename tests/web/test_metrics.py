"""/metrics: scraped like Prometheus does and parsed with prometheus_client's own parser; the
figures are those of the control DB's run history and authorizers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pinads.emulator import EUR_ADVERTISER_ID, EmulatorServer
from pinads.settings import load_settings
from pinads.web.app import create_app

from .conftest import Browser


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _source(tmp_path: Path, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_7_days",
        "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
    }


def _run(client: TestClient, token: str, name: str) -> dict[str, Any]:
    job_id = client.post(f"/api/sources/{name}/run", headers=_auth(token)).json()["id"]
    for _ in range(600):
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=_auth(token)).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        sample: Sample
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_runs_rows_calls_durations_and_authorizer_health(
    client: TestClient,
    api_token: str,
    authorizer: str,
    emulator_server: EmulatorServer,
    tmp_path: Path,
) -> None:
    headers = _auth(api_token)
    for name in ("shop", "other"):
        assert client.post("/api/sources", headers=headers, json=_source(tmp_path, name)).is_success
    assert _run(client, api_token, "shop")["status"] == "succeeded"
    assert _run(client, api_token, "shop")["status"] == "succeeded"
    emulator_server.state.tokens.revoke_all()  # access removed at Pinterest: the next run fails
    failed = _run(client, api_token, "other")
    assert failed["status"] == "failed", failed

    scraped = client.get("/metrics", headers=headers)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    samples = _samples(scraped.text)
    history = client.get("/api/runs", headers=headers).json()
    shop = [r for r in history if r["source"] == "shop"]
    assert len(shop) == 2 and len(history) == 3

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("pinads_runs_total", source="shop", kind="manual", status="succeeded") == 2
    assert value("pinads_runs_total", source="other", kind="manual", status="failed") == 1
    assert value("pinads_rows_loaded_total", source="shop") == sum(r["rows_written"] for r in shop)
    assert value("pinads_rows_loaded_total", source="shop") > 0
    assert value("pinads_api_calls_total", source="shop") == sum(r["api_calls"] for r in shop)
    assert value("pinads_rate_limited_total", source="shop") == sum(r["rate_limited"] for r in shop)
    assert value("pinads_run_duration_seconds_count", source="shop") == 2
    assert value("pinads_run_duration_seconds_bucket", source="shop", le="+Inf") == 2
    assert value("pinads_run_duration_seconds_sum", source="shop") == pytest.approx(
        sum(r["duration_seconds"] for r in shop)
    )
    buckets = [
        v for (n, labels), v in samples.items()
        if n == "pinads_run_duration_seconds_bucket" and ("source", "shop") in labels
    ]  # fmt: skip
    assert len(buckets) == 11
    # The failed run's refused refresh marked the authorizer: it needs re-authorization.
    assert value("pinads_authorizer_needs_reauthorization", authorizer="demo") == 1


def test_metrics_report_refresh_token_expiry_of_a_live_authorizer(
    client: TestClient, api_token: str, authorizer: str
) -> None:
    samples = _samples(client.get("/metrics", headers=_auth(api_token)).text)
    expiry = samples[("pinads_authorizer_refresh_token_expiry_seconds", (("authorizer", "demo"),))]
    assert 59 * 86400 < expiry <= 60 * 86400  # the emulator's 60-day refresh tokens
    assert samples[("pinads_authorizer_needs_reauthorization", (("authorizer", "demo"),))] == 0


def test_metrics_need_credentials_or_the_metrics_token(
    client: TestClient, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = httpx.Client(transport=client._transport, base_url="http://127.0.0.1:8000")
    refused = anonymous.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/metrics", headers=_auth("pinads_wrong")).status_code == 401
    assert browser.client.get("/metrics").status_code == 200  # a logged-in session
    monkeypatch.setenv("PINADS_METRICS_TOKEN", "scrape-me-0123456789")
    with TestClient(create_app(load_settings()), base_url="http://127.0.0.1:8000") as scraper:
        assert scraper.get("/metrics", headers=_auth("scrape-me-0123456789")).status_code == 200
        assert scraper.get("/metrics", headers=_auth("scrape-me-wrong")).status_code == 401
    monkeypatch.setenv("PINADS_METRICS_PUBLIC", "true")
    with TestClient(create_app(load_settings()), base_url="http://127.0.0.1:8000") as public:
        assert public.get("/metrics").status_code == 200
