"""The planner's choice of path per window: synchronous calls where every column is served
synchronously, async reports otherwise, each at the fewest calls, with the reason shown."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pinads.catalog.analytics import ANALYTICS_DATASETS
from pinads.catalog.model import Granularity
from pinads.extract.plan import Plan, StepKind, Strategy, plan_analytics
from pinads.sources.dates import parse_date_range, resolve_date_range
from pinads.values import DateRange

TODAY = date(2026, 11, 28)
CAMPAIGNS = next(d for d in ANALYTICS_DATASETS if d.name == "campaign_analytics")
IDS = {"1": [str(10_000 + i) for i in range(600)], "2": ["5"]}


def _plan(
    period: DateRange, *, async_columns: tuple[str, ...] = (), strategy: Strategy = Strategy.AUTO
) -> Plan:
    return plan_analytics(
        CAMPAIGNS,
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1", "2"],
        entity_ids=IDS,
        async_columns=async_columns,
        strategy=strategy,
    )


def test_a_daily_lookback_of_async_only_columns_is_one_report_per_account() -> None:
    period = DateRange(start=TODAY - timedelta(days=30), end=TODAY - timedelta(days=1))
    plan = _plan(period, async_columns=("TOTAL_CLICK_PAGE_VISIT",))
    assert [(s.kind, s.account_id, s.start, s.end) for s in plan.steps] == [
        (StepKind.REPORT, "1", period.start, period.end),
        (StepKind.REPORT, "2", period.start, period.end),
    ]
    assert plan.api_calls == 2 * (1 + 1)  # a creation and (at least) one poll each
    assert plan.reason == (
        f"async reports for {period}: 1 column (TOTAL_CLICK_PAGE_VISIT) only async reports serve"
    )


def test_sync_columns_within_90_days_stay_synchronous() -> None:
    period = DateRange(start=TODAY - timedelta(days=30), end=TODAY - timedelta(days=1))
    plan = _plan(period)
    assert {s.kind for s in plan.steps} == {StepKind.SYNC}
    assert plan.api_calls == 3 + 1  # 600 ids: 3 batches; 1 id: 1
    assert plan.reason == f"synchronous calls for {period}: every column is served synchronously"


@pytest.mark.parametrize("spec", ["this_year", "last_100_days", "3m1", "last_365_days"])
def test_saved_ranges_past_90_days_are_served_by_reports(spec: str) -> None:
    period = resolve_date_range(parse_date_range(spec), today=TODAY)
    plan = _plan(period)
    cutoff = TODAY - timedelta(days=90)
    reports = [s for s in plan.steps if s.kind is StepKind.REPORT]
    assert reports and all(s.end is not None and s.end < cutoff for s in reports)
    assert min(s.start for s in plan.steps if s.start) == period.start
    assert f"days before {cutoff} lie beyond the synchronous endpoints' 90 days" in plan.reason
    # async-only columns: every day by reports, in <= 186-day reports
    only_reports = _plan(period, async_columns=("TOTAL_CLICK_SEARCH", "TOTAL_CLICK_CUSTOM"))
    assert {s.kind for s in only_reports.steps} == {StepKind.REPORT}
    days = (period.end - period.start).days + 1
    assert len(only_reports.steps) == 2 * -(-days // 186)
    assert "2 columns (TOTAL_CLICK_SEARCH, TOTAL_CLICK_CUSTOM)" in only_reports.reason


def test_a_backfill_of_async_only_columns_reads_no_tail_synchronously() -> None:
    period = DateRange(start=TODAY - timedelta(days=400), end=TODAY - timedelta(days=1))
    plan = _plan(period, async_columns=("TOTAL_CLICK_SEARCH",), strategy=Strategy.CHEAPEST)
    assert {s.kind for s in plan.steps} == {StepKind.REPORT}
    with_sync = _plan(period, strategy=Strategy.CHEAPEST)
    assert StepKind.SYNC in {s.kind for s in with_sync.steps}
