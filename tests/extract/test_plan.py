"""The planner against the lower bound of API calls for each case."""

from __future__ import annotations

import functools
import itertools
import math
from datetime import date, timedelta

from pinads.catalog.analytics import ANALYTICS_DATASETS
from pinads.catalog.model import Granularity
from pinads.extract.plan import StepKind, Strategy, date_windows, list_calls, plan_analytics
from pinads.values import DateRange

TODAY = date(2026, 11, 28)
BY_NAME = {d.name: d for d in ANALYTICS_DATASETS}


def _ids(n: int) -> list[str]:
    return [str(10_000 + i) for i in range(n)]


def test_recent_range_is_windows_times_id_batches() -> None:
    period = DateRange(start=TODAY - timedelta(days=90), end=TODAY - timedelta(days=1))
    plan = plan_analytics(
        BY_NAME["ad_analytics"],
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1", "2"],
        entity_ids={"1": _ids(5_000), "2": _ids(251)},
    )
    # 90 days fit one window; 5,000 ids need 20 calls, 251 need 2.
    assert plan.api_calls == 20 + 2
    assert all(step.kind is StepKind.SYNC and len(step.ids) <= 250 for step in plan.steps)
    assert len({step.step_id for step in plan.steps}) == len(plan.steps)


def test_step_ids_are_stable_and_independent_of_id_order() -> None:
    period = DateRange(start=TODAY - timedelta(days=30), end=TODAY - timedelta(days=1))
    plan = functools.partial(
        plan_analytics,
        BY_NAME["campaign_analytics"],
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["7"],
    )
    first = plan(entity_ids={"7": _ids(600)})
    again = plan(entity_ids={"7": list(reversed(_ids(600)))})
    assert [s.step_id for s in first.steps] == [s.step_id for s in again.steps]


def test_account_level_needs_one_call_per_window_and_no_ids() -> None:
    period = DateRange(start=TODAY - timedelta(days=80), end=TODAY)
    plan = plan_analytics(
        BY_NAME["ad_account_analytics"],
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1"],
        entity_ids={},
    )
    assert plan.api_calls == 1
    assert plan.steps[0].ids == ()


def test_old_days_come_from_one_report_per_186_days() -> None:
    period = DateRange(start=TODAY - timedelta(days=700), end=TODAY - timedelta(days=1))
    plan = plan_analytics(
        BY_NAME["campaign_analytics"],
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1"],
        entity_ids={"1": _ids(10)},
        report_polls=1,
    )
    old_days = 700 - 90
    reports = math.ceil(old_days / 186)
    assert [s.kind for s in plan.steps].count(StepKind.REPORT) == reports
    assert plan.api_calls == reports * 2 + 1
    covered = sum((s.end - s.start).days + 1 for s in plan.steps if s.start and s.end)
    assert covered == 700


def test_backfill_strategy_uses_reports_for_every_day() -> None:
    period = DateRange(start=TODAY - timedelta(days=500), end=TODAY - timedelta(days=1))
    plan = plan_analytics(
        BY_NAME["ad_group_analytics"],
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1"],
        entity_ids={"1": _ids(900)},
        strategy=Strategy.REPORTS,
        report_polls=2,
    )
    assert plan.api_calls == math.ceil(500 / 186) * 3
    assert all(s.kind is StepKind.REPORT for s in plan.steps)


def test_hour_windows_are_three_days() -> None:
    period = DateRange(start=TODAY - timedelta(days=7), end=TODAY)
    plan = plan_analytics(
        BY_NAME["campaign_analytics"],
        period=period,
        granularity=Granularity.HOUR,
        today=TODAY,
        account_ids=["1"],
        entity_ids={"1": _ids(3)},
    )
    assert plan.api_calls == 3  # 8 days / 3 per call
    assert max((s.end - s.start).days + 1 for s in plan.steps if s.start and s.end) == 3


def test_windows_cover_the_range_without_overlap() -> None:
    period = DateRange(start=date(2026, 1, 1), end=date(2026, 12, 31))
    windows = list(date_windows(period, 90))
    assert windows[0].start == period.start and windows[-1].end == period.end
    for left, right in itertools.pairwise(windows):
        assert right.start == left.end + timedelta(days=1)
    assert sum(w.days for w in windows) == 365


def test_week_and_month_windows_are_cut_between_buckets() -> None:
    """A WEEK (MONTH) row totals its bucket and is keyed by its first day: cut in two, the
    later part's row would overwrite the earlier's."""
    period = DateRange(start=date(2026, 1, 1), end=date(2026, 12, 31))  # a Thursday
    weeks = list(date_windows(period, 90, Granularity.WEEK))
    months = list(date_windows(period, 90, Granularity.MONTH))
    assert all(w.end.weekday() == 6 for w in weeks[:-1])  # Sundays
    assert all((w.end + timedelta(days=1)).day == 1 for w in months[:-1])
    for windows in (weeks, months):
        assert windows[0].start == period.start and windows[-1].end == period.end
        pairs = itertools.pairwise(windows)
        assert all(right.start == left.end + timedelta(days=1) for left, right in pairs)
        assert max(w.days for w in windows) <= 90
    dataset = BY_NAME["campaign_analytics"]
    old = DateRange(start=TODAY - timedelta(days=200), end=TODAY - timedelta(days=1))
    plan = plan_analytics(
        dataset,
        period=old,
        granularity=Granularity.WEEK,
        today=TODAY,
        account_ids=["1"],
        entity_ids={"1": _ids(3)},
    )
    syncs = [s for s in plan.steps if s.kind is StepKind.SYNC and s.start]
    assert syncs and min(s.start for s in syncs if s.start).weekday() == 0  # a Monday


def test_list_calls() -> None:
    assert [list_calls(n) for n in (0, 1, 250, 251, 5_000)] == [1, 1, 1, 2, 20]
    assert list_calls(900, paginated=False) == 1


def test_product_item_reports_are_31_days_within_92() -> None:
    dataset = BY_NAME["product_item_analytics"]
    period = DateRange(start=TODAY - timedelta(days=92), end=TODAY - timedelta(days=1))
    plan = plan_analytics(
        dataset,
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=["1"],
        entity_ids={},
        strategy=Strategy.REPORTS,
    )
    assert [s.kind for s in plan.steps] == [StepKind.REPORT] * 3
    assert max((s.end - s.start).days + 1 for s in plan.steps if s.start and s.end) == 31
