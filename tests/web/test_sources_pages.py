"""Sources pages: list columns, detail, Run now with its job, backfill form, delete."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service as runs
from pinads.settings import load_settings

from .conftest import Browser


def _create(tmp_path: Path, authorizer: str) -> None:
    runs.create_source(
        {
            "name": "shop",
            "dataset": "campaign_analytics",
            "authorizer": authorizer,
            "accounts": [EUR_ADVERTISER_ID],
            "date_range": "last_7_days",
            "schedule": "daily 06:00 Europe/Prague",
            "destination": f"duckdb:///{tmp_path}/pages.duckdb",
        },
        settings=load_settings(),
    )


def _finish(browser: Browser, location: str) -> dict[str, object]:
    job_id = location.split("job=")[1]
    page = browser.client.get(location).text
    assert f'data-job="{job_id}"' in page and "<progress" in page
    for _ in range(600):
        job: dict[str, object] = browser.client.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_list_detail_run_now_backfill_delete(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    _create(tmp_path, authorizer)
    listing = browser.client.get("/sources").text
    row = re.search(
        r'<tr>\s*<td data-label="Name"><a href="/sources/shop">shop</a>.*?</tr>', listing, re.S
    )
    assert row is not None
    assert "campaign_analytics" in row.group(0) and EUR_ADVERTISER_ID in row.group(0)
    assert "daily at 06:00 Europe/Prague" in row.group(0) and "never" in row.group(0)
    assert "UTC</td>" in row.group(0)  # next run

    started = browser.post_form("/sources/shop/run", {}, follow_redirects=False)
    assert started.status_code == 303
    job = _finish(browser, started.headers["location"])
    assert job["status"] == "succeeded", job
    with duckdb.connect(str(tmp_path / "pages.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM shop").fetchone()
    assert rows is not None and rows[0] == job["rows"]
    detail = browser.client.get("/sources/shop").text
    assert '<span class="badge succeeded">succeeded</span>' in detail

    today = datetime.now(UTC).date()
    backfill = browser.post_form(
        "/sources/shop/backfill",
        {
            "start": (today - timedelta(days=120)).isoformat(),
            "end": (today - timedelta(days=118)).isoformat(),
        },
        follow_redirects=False,
    )
    job = _finish(browser, backfill.headers["location"])
    assert job["status"] == "succeeded" and job["kind"] == "backfill", job
    assert 'name="restart"' in browser.client.get("/sources/shop").text
    span = {
        "start": (today - timedelta(days=120)).isoformat(),
        "end": (today - timedelta(days=118)).isoformat(),
    }
    for restart, skipped in (("", "all"), ("1", 0)):
        again = browser.post_form(
            "/sources/shop/backfill", {**span, "restart": restart}, follow_redirects=False
        )
        result = _finish(browser, again.headers["location"])["result"]
        assert isinstance(result, dict), result
        expected = result["steps"] if skipped == "all" else skipped
        assert result["steps_skipped"] == expected, (restart, result)
    bad = browser.post_form("/sources/shop/backfill", {"start": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text

    deleted = browser.post_form("/sources/shop/delete", {})
    assert "Source shop deleted" in deleted.text
    assert runs.list_sources(settings=load_settings()) == []


def test_unknown_source_is_a_404_page_saying_where_sources_are(browser: Browser) -> None:
    for path in ("/sources/nope", "/sources/nope/edit"):
        page = browser.client.get(path)
        assert page.status_code == 404 and 'id="error-message"' in page.text
        assert "no source named &#39;nope&#39;: open Sources to see yours" in page.text
    run = browser.post_form("/sources/nope/run", {})
    assert run.status_code == 404


def test_empty_lists_say_what_to_do(browser: Browser) -> None:
    assert "No source yet." in browser.client.get("/sources").text
    assert "No authorizer yet." in browser.client.get("/authorizers").text


def test_detail_shows_settings_in_words_and_backfill_ranges_are_checked(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    _create(tmp_path, authorizer)
    detail = browser.client.get("/sources/shop").text
    settings = re.search(r'<dl class="facts" id="settings">.*?</dl>', detail, re.S)
    assert settings is not None
    text = re.sub(r"<[^>]+>", " ", settings.group(0))
    assert re.search(r"Allow Empty Data Extractions\s+no", text)
    assert re.search(r"Each run reads\s+last_7_days", text)
    assert re.search(r"Lookback days\s+—", text)
    assert "allow_empty" not in text and "None" not in text and "False" not in text
    assert "No run yet: use <strong>Run now</strong>" in detail
    today = datetime.now(UTC).date()
    future = browser.post_form("/sources/shop/backfill", {"start": str(today + timedelta(3))})
    assert future.status_code == 400
    assert "after today: choose a past day" in future.text
    backwards = browser.post_form(
        "/sources/shop/backfill",
        {"start": str(today - timedelta(3)), "end": str(today - timedelta(9))},
    )
    assert backwards.status_code == 400 and "before its start" in backwards.text
    assert "Value error" not in backwards.text


def test_last_run_is_the_last_load_not_a_test_data_preview(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    _create(tmp_path, authorizer)
    settings = load_settings()
    manual = runs.run("shop", settings=settings)
    runs.preview("shop", settings=settings)  # recorded in run history, kind preview
    history = runs.list_runs("shop", settings=settings)
    assert [r.kind for r in history[:2]] == ["preview", "manual"]
    runs.create_source(
        {"name": "other", "dataset": "campaigns", "authorizer": authorizer}, settings=settings
    )
    listing = browser.client.get("/sources").text
    cells = dict(
        re.findall(
            r'<a href="/sources/(\w+)">.*?<td data-label="Last run">(.*?)</td>', listing, re.S
        )
    )
    assert cells["other"] == "never"
    assert "succeeded" in cells["shop"]
    started = history[1].started_at.strftime("%Y-%m-%d %H:%M")
    assert started in cells["shop"] and manual.rows_written > 0
    api = browser.client.get("/api/sources/shop").json()
    assert api["last_run"]["kind"] == "manual"
    every = {v["name"]: v["last_run"] for v in browser.client.get("/api/sources").json()}
    assert every["shop"]["id"] == api["last_run"]["id"] and every["other"] is None
    detail = browser.client.get("/sources/shop").text
    assert '<td data-label="Kind">Test Data</td>' in detail  # the history still shows it
