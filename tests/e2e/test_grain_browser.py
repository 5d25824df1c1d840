"""Edit a written source to weekly in a real headless Chromium: Save is refused with the
message (the table's rows would mix), the rebuild needs its box ticked, then runs with live
progress on the source page and leaves weekly rows only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service
from pinads.settings import load_settings

from .conftest import CHROMIUM
from .test_web_browser import _login, _shot, _submit, page

__all__ = ["page"]  # a fixture, used by name

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def _table(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("SELECT date, spend_in_micro_dollar FROM shop").fetchall()


def test_weekly_edit_refused_then_rebuilt(
    page: Any, web_url: str, authorizer: str, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    database = tmp_path / "browser.duckdb"
    service.create_source(
        {
            "name": "shop",
            "dataset": "campaign_analytics",
            "authorizer": authorizer,
            "accounts": [EUR_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
            "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
            "date_range": {
                "start": str(today - timedelta(days=27)),
                "end": str(today - timedelta(days=1)),
            },
            "destination": f"duckdb:///{database}",
        },
        settings=load_settings(),
    )
    service.run("shop", settings=load_settings())
    daily = _table(database)

    _login(page, web_url)
    page.goto(f"{web_url}/sources/shop/edit")
    page.click("button[value='goto:columns']")
    page.select_option("#granularity", "WEEK")
    _submit(page, "#save-now")
    problems = page.locator("#step-problems").inner_text()
    assert "has already written its table 'shop'" in problems
    assert "granularity (DAY -> WEEK: WEEK totals would be written next to the DAY rows" in problems
    _shot(page, "grain-refused")
    _submit(page, "#rebuild")  # not confirmed yet
    assert 'Tick "Rebuild the table" to confirm' in page.locator("#step-problems").inner_text()
    assert _table(database) == daily

    page.check("#rebuild-confirm")
    page.click("#rebuild")
    page.wait_for_url(f"{web_url}/sources/shop?job=*")
    assert "Rebuild of the table" in page.locator(".job h2").inner_text()
    page.locator(".job-status.succeeded").wait_for(timeout=60_000)
    _shot(page, "grain-rebuilt")

    weekly = _table(database)
    assert weekly and {row[0].weekday() for row in weekly} == {0}
    assert sum(r[1] or 0 for r in weekly) == sum(r[1] or 0 for r in daily)
    assert service.get_source("shop").granularity.value == "WEEK"
