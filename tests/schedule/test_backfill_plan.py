"""Backfill plans (Strategy.CHEAPEST): report batches aligned on the range's start, the trailing
batches read synchronously only when that costs no more calls than their reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pinads.catalog import Granularity, get_dataset
from pinads.extract.plan import (
    PlanStep,
    StepKind,
    Strategy,
    plan_analytics,
    sync_tail,
    sync_tail_worth_listing,
)
from pinads.values import DateRange

TODAY = date(2026, 11, 29)
ACCOUNT = "549755813002"


def _plan(
    dataset: str,
    days: int,
    *,
    ids: int | None = 14,
    strategy: Strategy = Strategy.CHEAPEST,
    today: date = TODAY,
    granularity: Granularity = Granularity.DAY,
) -> tuple[PlanStep, ...]:
    period = DateRange(start=TODAY - timedelta(days=days), end=TODAY - timedelta(days=1))
    entity_ids = {} if ids is None else {ACCOUNT: [str(700 + n) for n in range(ids)]}
    return plan_analytics(
        get_dataset(dataset),
        period=period,
        granularity=granularity,
        today=today,
        account_ids=[ACCOUNT],
        entity_ids=entity_ids,
        strategy=strategy,
    ).steps


def _kinds(steps: tuple[PlanStep, ...]) -> list[tuple[StepKind, int]]:
    return [
        (step.kind, (step.end - step.start).days + 1) for step in steps if step.start and step.end
    ]


def test_a_backfill_within_90_days_reads_synchronously() -> None:
    steps = _plan("campaign_analytics", 60)
    assert _kinds(steps) == [(StepKind.SYNC, 60)]
    assert sum(step.api_calls for step in steps) == 1  # a report: create + at least one poll


def test_the_trailing_batch_within_reach_is_read_synchronously_the_rest_by_reports() -> None:
    steps = _plan("campaign_analytics", 600)  # 186 + 186 + 186 + 42 days
    reports = _plan("campaign_analytics", 600, strategy=Strategy.REPORTS)
    assert _kinds(steps) == [
        (StepKind.REPORT, 186),
        (StepKind.REPORT, 186),
        (StepKind.REPORT, 186),
        (StepKind.SYNC, 42),
    ]
    # the report batches are the REPORTS plan's: a backfill started before the change resumes
    assert steps[:3] == reports[:3]


def test_a_trailing_batch_partly_past_the_sync_reach_stays_a_report() -> None:
    steps = _plan("campaign_analytics", 730)  # 186 * 3 + 172: the last batch starts 172 days back
    assert steps == _plan("campaign_analytics", 730, strategy=Strategy.REPORTS)


def test_many_ids_keep_the_report_when_their_batches_cost_more_calls() -> None:
    # 600 campaigns = 3 calls of <= 250 ids, a report 2 calls at least: the report stays
    assert _plan("campaign_analytics", 60, ids=600) == _plan(
        "campaign_analytics", 60, ids=600, strategy=Strategy.REPORTS
    )
    # 500 ids = 2 calls: no more than the report's minimum, and no report to wait for
    assert _kinds(_plan("campaign_analytics", 60, ids=500)) == [(StepKind.SYNC, 60)] * 2


def test_ids_not_listed_mean_reports() -> None:
    assert _plan("campaign_analytics", 60, ids=None) == _plan(
        "campaign_analytics", 60, ids=None, strategy=Strategy.REPORTS
    )


def test_account_level_and_product_item_datasets() -> None:
    assert _kinds(_plan("ad_account_analytics", 60, ids=None)) == [(StepKind.SYNC, 60)]
    # PRODUCT_ITEM has no synchronous endpoint: 31-day reports only
    assert {s.kind for s in _plan("product_item_analytics", 60, ids=None)} == {StepKind.REPORT}


def test_hour_granularity_uses_three_day_batches_either_way() -> None:
    steps = _plan("campaign_analytics", 6, granularity=Granularity.HOUR)
    assert _kinds(steps) == [(StepKind.SYNC, 3), (StepKind.SYNC, 3)]


def test_a_backfill_resumed_on_a_later_day_finds_the_same_steps() -> None:
    first = _plan("campaign_analytics", 600)
    assert _plan("campaign_analytics", 600, today=TODAY + timedelta(days=3)) == first


@pytest.mark.parametrize(
    ("list_calls", "polls", "worth"),
    [
        (1, 1, True),  # a one-page id list + one call <= create + one poll
        (0, 1, True),
        (1, 0, False),  # were a report one call, listing ids would already cost more
        (0, 0, True),
    ],
)
def test_ids_are_listed_only_when_sync_might_be_cheaper(
    list_calls: int, polls: int, worth: bool
) -> None:
    dataset = get_dataset("campaign_analytics")
    period = DateRange(start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=1))
    tail = sync_tail(dataset, period=period, granularity=Granularity.DAY, today=TODAY)
    assert tail == period
    assert (
        sync_tail_worth_listing(
            dataset,
            tail=tail,
            granularity=Granularity.DAY,
            report_polls=polls,
            list_calls_needed=list_calls,
        )
        is worth
    )


def test_no_tail_past_the_synchronous_reach() -> None:
    period = DateRange(start=TODAY - timedelta(days=150), end=TODAY - timedelta(days=1))
    dataset = get_dataset("campaign_analytics")
    assert sync_tail(dataset, period=period, granularity=Granularity.DAY, today=TODAY) is None
