"""Edits that change a table's grain through the web: the JSON API (PUT and PATCH) and the
Edit wizard refuse them with the same message as the CLI once the source has written its
table, and rebuild the table when asked (a background job, like a backfill). A loopback
emulator, a real DuckDB file."""

from __future__ import annotations

import html
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from fastapi.testclient import TestClient

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service as runs
from pinads.runner.grain import grain_changes, refusal_message
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig

from .conftest import Browser


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _source(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    span = {"start": str(today - timedelta(days=27)), "end": str(today - timedelta(days=1))}
    return {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": span,
        "destination": f"duckdb:///{tmp_path}/web.duckdb",
        **extra,
    }


def _written(tmp_path: Path) -> list[tuple[Any, ...]]:
    """Create the source and run it once; its table's rows."""
    runs.create_source(_source(tmp_path), settings=load_settings())
    runs.run("shop", settings=load_settings())
    return _table(tmp_path)


def _table(tmp_path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(tmp_path / "web.duckdb"), read_only=True) as conn:
        return conn.execute(
            "SELECT date, campaign_id, spend_in_micro_dollar FROM shop ORDER BY 1, 2"
        ).fetchall()


def _expected_refusal(tmp_path: Path, **edit: Any) -> str:
    old = SourceConfig.model_validate(_source(tmp_path))
    new = SourceConfig.model_validate(_source(tmp_path, **edit))
    return refusal_message("shop", grain_changes(old, new))


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    for _ in range(1200):
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the rebuild did not finish")


def test_api_refuses_a_grain_change_then_rebuilds(
    client: TestClient, api_token: str, authorizer: str, tmp_path: Path
) -> None:
    headers = _auth(api_token)
    daily = _written(tmp_path)
    weekly = _source(tmp_path, granularity="WEEK")

    refused = client.put("/api/sources/shop", headers=headers, json=weekly)
    patched = client.patch("/api/sources/shop", headers=headers, json={"click_window_days": 7})

    assert refused.status_code == 400
    assert refused.json()["detail"] == _expected_refusal(tmp_path, granularity="WEEK")
    assert patched.status_code == 400
    assert patched.json()["detail"] == _expected_refusal(tmp_path, click_window_days=7)
    assert runs.get_source("shop", settings=load_settings()).granularity.value == "DAY"
    assert _table(tmp_path) == daily
    bad = client.put("/api/sources/shop", headers=headers, json={**weekly, "rebuild": "yes"})
    assert bad.status_code == 400 and '"rebuild" must be true or false' in bad.json()["detail"]

    started = client.put("/api/sources/shop", headers=headers, json={**weekly, "rebuild": True})

    assert started.status_code == 202, started.text
    job = _wait(client, headers, started.json()["id"])
    assert (job["kind"], job["status"]) == ("rebuild", "succeeded"), job
    assert job["result"]["kind"] == "rebuild" and job["steps_done"] == job["steps_total"] > 0
    view = client.get("/api/sources/shop", headers=headers).json()
    assert view["config"]["granularity"] == "WEEK"
    weekly_rows = _table(tmp_path)
    assert {row[0].weekday() for row in weekly_rows} == {0}  # weekly rows only, on Mondays
    assert sum(r[2] or 0 for r in weekly_rows) == sum(r[2] or 0 for r in daily)
    # An edit that keeps the grain is a plain update (PATCH keeps the other keys).
    kept = client.patch("/api/sources/shop", headers=headers, json={"metrics": ["IMPRESSION_1"]})
    assert kept.status_code == 200, kept.text
    assert kept.json()["config"]["granularity"] == "WEEK"


def _wizard_save(browser: Browser, draft: dict[str, Any], **fields: str) -> Any:
    return browser.post_form(
        "/sources/new",
        {"draft": json.dumps(draft), "step": "test", "editing": "1", **fields},
        follow_redirects=False,
    )


def test_edit_wizard_refuses_then_rebuilds_after_confirmation(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    daily = _written(tmp_path)
    draft = {**_source(tmp_path), "granularity": "WEEK"}

    refused = _wizard_save(browser, draft, nav="save")

    page = html.unescape(refused.text)
    assert refused.status_code == 200
    expected = _expected_refusal(tmp_path, granularity="WEEK")
    assert expected.split(" (`pinads")[0] in page  # the same message (code spans marked up)
    assert 'id="rebuild-confirm"' in page and 'id="rebuild"' in page
    assert runs.get_source("shop", settings=load_settings()).granularity.value == "DAY"
    unconfirmed = _wizard_save(browser, draft, nav="rebuild")
    assert 'Tick "Rebuild the table" to confirm' in html.unescape(unconfirmed.text)
    assert _table(tmp_path) == daily

    started = _wizard_save(browser, draft, nav="rebuild", rebuild_confirm="1")

    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith("/sources/shop?job=")
    job_id = location.split("job=")[1]
    shown = browser.client.get(location).text
    assert "Rebuild of the table" in shown
    for _ in range(1200):
        job = browser.client.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "running":
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert runs.get_source("shop", settings=load_settings()).granularity.value == "WEEK"
    assert {row[0].weekday() for row in _table(tmp_path)} == {0}
