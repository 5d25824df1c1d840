"""Every metric on a schedule: a daily source of conversion metrics only async reports serve,
run by `pinads run-due` against the emulator on a loopback port, equals the emulator's own
report rows; `run --dry-run` says which path the planner chose and why; a report that comes
back FAILED is created again and the run succeeds, and fails clearly past the bound."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

from pinads.emulator import EUR_ADVERTISER_ID, EmulatorConfig, EmulatorServer
from pinads.emulator.analytics import attribution_from
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.runner.store import SourceStore
from pinads.schedule import utc_now
from pinads.settings import load_settings
from pinads.state.schema import SOURCES

from .test_cli_emulator import pinads, server  # noqa: F401  (the authorizer fixture)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Reports finish at their first poll: the run waits one polling pause per report."""
    return EmulatorConfig(seed=7, report_polls_until_finished=0)


# Conversion metrics the synchronous endpoints refuse (only async reports serve them).
CONVERSIONS = ["TOTAL_CLICK_PAGE_VISIT", "TOTAL_ENGAGEMENT_ADD_TO_CART", "TOTAL_CLICK_SEARCH"]


def _scheduled_source(tmp_path: Path, name: str = "conversions", **extra: Any) -> None:
    path = tmp_path / f"{name}.yaml"
    document = {
        "name": name,
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": CONVERSIONS,
        "date_range": "yesterday",
        "schedule": "daily 00:00",
        "lookback_days": 30,
        "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
        **extra,
    }
    path.write_text(yaml.safe_dump(document))
    code, output = pinads("sources", "create", "--file", str(path))
    assert code == 0, output
    store = SourceStore(load_settings())
    try:  # created two days ago, so today's slot is due
        with store.db.engine.begin() as conn:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.name == name)
                .values(created_at=utc_now() - timedelta(days=2))
            )
    finally:
        store.close()


def _emulator_rows(emulator: EmulatorServer, start: date, end: date) -> dict[tuple[str, str], Any]:
    state = emulator.state
    query = ReportQuery(
        account_id=EUR_ADVERTISER_ID,
        level="CAMPAIGN",
        start_day=start.toordinal(),
        end_day=end.toordinal(),
        granularity="DAY",
        columns=tuple(CONVERSIONS),
        attribution=attribution_from({}, today=state.today_ordinal()),
    )
    rows = build_rows(state.world, query).table.to_pylist()
    return {(row["DATE"], str(row["CAMPAIGN_ID"])): row for row in rows}


def test_daily_conversion_source_runs_by_reports_and_equals_the_emulator(
    server: EmulatorServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    _scheduled_source(tmp_path)
    code, output = pinads("run", "conversions", "--dry-run")
    assert code == 0, output
    today = server.state.today()
    start, end = today - timedelta(days=30), today - timedelta(days=1)
    assert f"path: async reports for {start}..{end}: 3 columns" in output
    assert "only async reports serve" in output
    assert "1 steps" in output  # 30 days: one report, the fewest calls

    code, output = pinads("run-due")
    assert code == 0, output
    assert "ok      conversions" in output

    truth = _emulator_rows(server, start, end)
    with duckdb.connect(str(tmp_path / "conversions.duckdb"), read_only=True) as con:
        table = con.execute(
            "SELECT date, campaign_id, total_click_page_visit, total_engagement_add_to_cart, "
            "total_click_search FROM conversions"
        ).fetchall()
    assert len(table) == len(truth) > 0
    assert {(d.isoformat(), c) for d, c, *_ in table} == set(truth)
    for day, campaign, *values in table:
        want = truth[(day.isoformat(), campaign)]
        assert values == [want.get(name) for name in CONVERSIONS]
    sums = [sum(row[2 + i] or 0 for row in table) for i in range(len(CONVERSIONS))]
    assert sums == [sum(row.get(name) or 0 for row in truth.values()) for name in CONVERSIONS]
    assert sum(sums) > 0


def _faults(emulator: EmulatorServer, **faults: Any) -> None:
    response = httpx.post(f"{emulator.base_url}/_emulator/faults", json=faults)
    assert response.status_code == 200, response.text


def test_a_failed_report_is_created_again_and_the_run_succeeds(
    server: EmulatorServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    _scheduled_source(tmp_path)
    _faults(server, failed_reports=1)
    code, output = pinads("run-due")
    assert code == 0, output
    stats = httpx.get(f"{server.base_url}/_emulator/stats").json()
    assert stats["operations"]["analytics/create_report"] == 2
    with duckdb.connect(str(tmp_path / "conversions.duckdb"), read_only=True) as con:
        count = con.execute("SELECT count(*) FROM conversions").fetchone()
    assert count is not None and count[0] > 0


def test_reports_failing_past_the_bound_fail_the_run_clearly(
    server: EmulatorServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    _scheduled_source(tmp_path)
    _faults(server, failed_reports=3)
    code, output = pinads("run", "conversions")
    assert code == 5, output  # an extraction error
    assert "3 tries ended FAILED, FAILED, FAILED; run the extraction again later" in output
    assert "Traceback" not in output
