"""A resumed plan keeps the interrupted plan's steps whatever the ids are now; a plan survives
its JSON document unchanged."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pinads.catalog.analytics import ANALYTICS_DATASETS
from pinads.catalog.model import Granularity
from pinads.extract.plan import Plan, StepKind, Strategy, plan_analytics, resume_plan
from pinads.extract.plan_document import PLAN_FORMAT, plan_document, plan_from_document
from pinads.values import DateRange

TODAY = date(2026, 11, 28)
BY_NAME = {d.name: d for d in ANALYTICS_DATASETS}
ADS = BY_NAME["ad_analytics"]
SYNC_FROM = TODAY - timedelta(days=90)


def _ids(first: int, count: int) -> list[str]:
    return [str(10_000 + i) for i in range(first, first + count)]


def _plan(
    ids: dict[str, list[str]], *, days: int = 120, strategy: Strategy = Strategy.AUTO
) -> Plan:
    period = DateRange(start=TODAY - timedelta(days=days), end=TODAY - timedelta(days=1))
    return plan_analytics(
        ADS,
        period=period,
        granularity=Granularity.DAY,
        today=TODAY,
        account_ids=list(ids),
        entity_ids=ids,
        strategy=strategy,
        discovery_calls=3,
    )


def test_resumed_plan_keeps_every_step_and_reads_new_ids_in_batches_of_their_own() -> None:
    before = _plan({"1": _ids(0, 300), "2": _ids(0, 10)})
    # Since: ad 10000 archived and gone from the list, 260 ads created; account 3 added.
    now = {"1": _ids(1, 299) + _ids(1000, 260), "2": _ids(0, 10), "3": _ids(0, 5)}
    fresh = _plan(now)
    resumed = resume_plan(
        before,
        fresh,
        ADS,
        account_ids=["1", "2", "3"],
        entity_ids=now,
        sync_from=SYNC_FROM,
    )
    kept = resumed.steps_for("1")[: len(before.steps_for("1"))]
    assert kept == before.steps_for("1")  # what the destination may have checkpointed
    new = [s for s in resumed.steps_for("1") if s not in before.steps]
    sync_windows = sorted(
        {(s.start, s.end) for s in before.steps_for("1") if s.kind is StepKind.SYNC}
    )
    # 260 new ids: 2 batches, over each synchronous window of account 1 (none for reports).
    assert sorted({(s.start, s.end) for s in new}) == sync_windows
    assert len(new) == 2 * len(sync_windows)
    assert {i for s in new for i in s.ids} == set(_ids(1000, 260))
    assert resumed.steps_for("2") == before.steps_for("2")  # nothing new there
    assert resumed.steps_for("3") == fresh.steps_for("3")  # not in the interrupted plan
    assert (resumed.discovery_calls, resumed.date_range) == (3, before.date_range)


def test_new_ids_are_not_read_in_windows_the_endpoint_no_longer_serves() -> None:
    before = _plan({"1": _ids(0, 10)}, days=60)
    now = {"1": _ids(0, 11)}
    later = (before.date_range.start if before.date_range else TODAY) + timedelta(days=1)
    resumed = resume_plan(
        before, _plan(now), ADS, account_ids=["1"], entity_ids=now, sync_from=later
    )
    assert resumed.steps == before.steps


def test_a_plan_survives_its_json_document() -> None:
    hourly = plan_analytics(  # 3 windows of <= 3 days x 3 id batches, and reports
        ADS,
        period=DateRange(start=TODAY - timedelta(days=8), end=TODAY - timedelta(days=1)),
        granularity=Granularity.HOUR,
        today=TODAY,
        account_ids=["1", "2"],
        entity_ids={"1": _ids(0, 600)},
        discovery_calls=4,
        entity_lists=("ads",),
    )
    assert len(hourly.steps_for("1")) == 9
    for plan in (hourly, _plan({"1": _ids(0, 10)}, days=400)):
        document = json.loads(json.dumps(plan_document(plan)))  # as the control DB keeps it
        assert document["format"] == PLAN_FORMAT
        assert plan_from_document(document) == plan
    assert len(plan_document(hourly)["batches"]["1"]) == 3  # once, whatever uses them


def test_a_document_of_another_format_or_damaged_is_planned_afresh() -> None:
    document = plan_document(_plan({"1": _ids(0, 10)}))
    assert plan_from_document({**document, "format": PLAN_FORMAT + 1}) is None
    assert plan_from_document({**document, "batches": {}}) is None
    assert plan_from_document({**document, "start": "not a day"}) is None
