"""The planner: a source, a date range and the accounts' entity ids -> the fewest API calls.

Pure functions over catalog data. Pinterest's limits shape the plan:
- synchronous analytics reach 90 days back, at most 90 days (HOUR: 3 days, 8 back) and 250 ids
  per call, so recent days are read as (window <= 90 d) x (id batch <= 250) calls;
- days older than that come from async reports: one report per account per <= 186 days
  (PRODUCT_ITEM: 31), without an id filter so one report covers every entity of the account;
- a source with a column only async reports serve (418 of the 564 metrics, conversions among
  them) reads every day through reports: the synchronous endpoints would refuse the column;
- a backfill (CHEAPEST) cuts its range into report batches, and reads the trailing batches the
  synchronous endpoints reach through them instead when that takes no more calls than the
  reports' minimum (so also less time: no report to wait for);
- entity lists (ids to batch, names to enrich) are listed once per account per run and shared.

Every step has a stable id built from what it reads (account, window, ids) so a checkpoint
written by one run matches the same step in a rerun.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pinads.catalog.limits import (
    ASYNC_MAX_DAYS_BACK,
    ASYNC_MAX_RANGE_DAYS,
    HOUR_MAX_DAYS_BACK,
    HOUR_MAX_RANGE_DAYS,
    MAX_IDS_PER_CALL,
    PAGE_SIZE,
    SYNC_MAX_DAYS_BACK,
    SYNC_MAX_RANGE_DAYS,
)
from pinads.catalog.model import Dataset, Granularity
from pinads.values import DateRange

__all__ = [
    "Plan",
    "PlanStep",
    "StepKind",
    "Strategy",
    "bucket_start",
    "date_windows",
    "earliest_day",
    "list_calls",
    "plan_analytics",
    "plan_entities",
    "resume_plan",
    "sync_period",
    "sync_tail",
    "sync_tail_worth_listing",
]


class StepKind(enum.StrEnum):
    SYNC = "sync"  # one GET of a synchronous analytics endpoint
    REPORT = "report"  # one async report (create + polls; the download is not an API call)
    LIST = "list"  # an entity list of one account (its pages)


class Strategy(enum.StrEnum):
    AUTO = "auto"  # sync for the last 90 days, reports for older days (a normal run)
    REPORTS = "reports"  # async reports for every day
    # A backfill: report batches aligned on the range's start (as REPORTS, so a resumed
    # backfill finds the same steps on any day), the trailing batches within the synchronous
    # endpoints' reach read through them when that costs no more calls than their reports.
    CHEAPEST = "cheapest"


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One unit of work, written with its checkpoint in one transaction."""

    step_id: str
    kind: StepKind
    account_id: str
    api_calls: int
    start: date | None = None
    end: date | None = None
    ids: tuple[str, ...] = ()

    def describe(self) -> str:
        days = f" {self.start}..{self.end}" if self.start and self.end else ""
        ids = f" {len(self.ids)} ids" if self.ids else ""
        return f"{self.kind.value} account {self.account_id}{days}{ids}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run will do and how many API calls it costs."""

    dataset: str
    date_range: DateRange | None
    steps: tuple[PlanStep, ...]
    # Calls made before the steps: the ad account list and the shared entity lists.
    discovery_calls: int = 0
    entity_lists: tuple[str, ...] = field(default=())
    # Which path the planner chose for the days, and why (what `run --dry-run` shows).
    reason: str = ""

    @property
    def api_calls(self) -> int:
        return self.discovery_calls + sum(step.api_calls for step in self.steps)

    def steps_for(self, account_id: str) -> tuple[PlanStep, ...]:
        return tuple(step for step in self.steps if step.account_id == account_id)


def list_calls(item_count: int, *, paginated: bool = True) -> int:
    """Pages needed to list `item_count` items (an empty list still costs one call)."""
    if not paginated:
        return 1
    return max(1, math.ceil(item_count / PAGE_SIZE))


def earliest_day(dataset: Dataset, granularity: Granularity, *, today: date, sync: bool) -> date:
    """The first day Pinterest serves for this dataset (sync endpoints or async reports)."""
    if granularity is Granularity.HOUR:
        return today - timedelta(days=HOUR_MAX_DAYS_BACK)
    if dataset.max_days_back is not None:
        return today - timedelta(days=dataset.max_days_back)
    if sync or dataset.async_report is None:
        return today - timedelta(days=SYNC_MAX_DAYS_BACK)
    return today - timedelta(days=ASYNC_MAX_DAYS_BACK)


def date_windows(
    period: DateRange, max_days: int, granularity: Granularity = Granularity.DAY
) -> Iterator[DateRange]:
    """`period` cut into consecutive windows of at most `max_days`, aligned on its start. With
    WEEK or MONTH granularity a cut falls between two weeks (months) whenever one fits: each
    window's rows are whole-bucket totals keyed by the bucket's first day, so a bucket cut in
    two would give two partial rows with one key, the later overwriting the earlier."""
    start = period.start
    while start <= period.end:
        end = min(period.end, start + timedelta(days=max_days - 1))
        if end < period.end:
            cut = bucket_start(end + timedelta(days=1), granularity)
            end = cut - timedelta(days=1) if cut > start else end
        yield DateRange(start=start, end=end)
        start = end + timedelta(days=1)


def bucket_start(day: date, granularity: Granularity) -> date:
    """First day of the WEEK (ISO, Monday) or MONTH bucket holding `day` (else `day`)."""
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def _sync_cutoff(dataset: Dataset, granularity: Granularity, *, today: date) -> date:
    """First day the synchronous endpoints read in a run: the first they serve, moved to the
    next week or month start so that no bucket is split between a report and a call."""
    first = earliest_day(dataset, granularity, today=today, sync=True)
    start = bucket_start(first, granularity)
    if start == first:
        return first
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)  # MONTH


def _batches(ids: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    ordered = sorted(set(ids), key=lambda v: (len(v), v))
    for index in range(0, len(ordered), size):
        yield tuple(ordered[index : index + size])


def _digest(ids: Sequence[str]) -> str:
    return hashlib.sha1(",".join(ids).encode(), usedforsecurity=False).hexdigest()[:12]


def _sync_max_days(dataset: Dataset, granularity: Granularity) -> int:
    if granularity is Granularity.HOUR:
        return HOUR_MAX_RANGE_DAYS
    return min(SYNC_MAX_RANGE_DAYS, dataset.max_range_days or SYNC_MAX_RANGE_DAYS)


def _report_max_days(dataset: Dataset, granularity: Granularity) -> int:
    if granularity is Granularity.HOUR:
        return HOUR_MAX_RANGE_DAYS
    return min(ASYNC_MAX_RANGE_DAYS, dataset.max_range_days or ASYNC_MAX_RANGE_DAYS)


def _has_sync(dataset: Dataset, async_columns: Sequence[str]) -> bool:
    """Whether the synchronous endpoints can serve the selection at all."""
    return dataset.sync is not None and not (async_columns and dataset.async_report is not None)


def _split(
    period: DateRange, *, cutoff: date, strategy: Strategy, has_sync: bool, has_async: bool
) -> tuple[DateRange | None, DateRange | None]:
    """(report part, sync part) of `period`: days before `cutoff` need reports."""
    if (strategy is Strategy.REPORTS and has_async) or not has_sync:
        return period, None
    if period.start >= cutoff or not has_async:
        return None, period
    if period.end < cutoff:
        return period, None
    old = DateRange(start=period.start, end=cutoff - timedelta(days=1))
    return old, DateRange(start=cutoff, end=period.end)


def sync_tail(
    dataset: Dataset,
    *,
    period: DateRange,
    granularity: Granularity,
    today: date,
    async_columns: Sequence[str] = (),
) -> DateRange | None:
    """The trailing report batches of `period` that lie wholly within the synchronous
    endpoints' reach (None: no batch does, the dataset lacks one of the two paths, or a
    column is served by reports only)."""
    if not _has_sync(dataset, async_columns) or dataset.async_report is None:
        return None
    cutoff = earliest_day(dataset, granularity, today=today, sync=True)
    windows = date_windows(period, _report_max_days(dataset, granularity), granularity)
    tail = [window for window in windows if window.start >= cutoff]
    return DateRange(start=tail[0].start, end=tail[-1].end) if tail else None


def sync_tail_worth_listing(
    dataset: Dataset,
    *,
    tail: DateRange,
    granularity: Granularity,
    report_polls: int,
    list_calls_needed: int,
) -> bool:
    """Whether the synchronous endpoints might read `tail` in no more calls than its reports,
    counting `list_calls_needed` calls to list the ids they take (one id batch at least)."""
    syncs = sum(1 for _ in date_windows(tail, _sync_max_days(dataset, granularity), granularity))
    reports = sum(
        1 for _ in date_windows(tail, _report_max_days(dataset, granularity), granularity)
    )
    return list_calls_needed + syncs <= reports * (1 + report_polls)


def sync_period(
    dataset: Dataset,
    *,
    period: DateRange,
    granularity: Granularity,
    today: date,
    strategy: Strategy = Strategy.AUTO,
    async_columns: Sequence[str] = (),
) -> DateRange | None:
    """The part of `period` the synchronous endpoints may read (None: reports read it all)."""
    if strategy is Strategy.CHEAPEST:
        return sync_tail(
            dataset,
            period=period,
            granularity=granularity,
            today=today,
            async_columns=async_columns,
        )
    cutoff = _sync_cutoff(dataset, granularity, today=today)
    return _split(
        period,
        cutoff=cutoff,
        strategy=strategy,
        has_sync=_has_sync(dataset, async_columns),
        has_async=dataset.async_report is not None,
    )[1]


def plan_analytics(
    dataset: Dataset,
    *,
    period: DateRange,
    granularity: Granularity,
    today: date,
    account_ids: Sequence[str],
    entity_ids: Mapping[str, Sequence[str]],
    strategy: Strategy = Strategy.AUTO,
    report_polls: int = 1,
    discovery_calls: int = 0,
    entity_lists: tuple[str, ...] = (),
    async_columns: Sequence[str] = (),
) -> Plan:
    """Steps for an analytics dataset. `entity_ids[account]` are the ids the sync endpoint takes
    (ignored for account-level endpoints); `report_polls` is how many polls a report needs;
    `async_columns` are the selected columns only async reports serve (every day then comes
    from reports). With CHEAPEST, an account missing from `entity_ids` of an id-taking
    endpoint gets reports only (its ids were not listed)."""
    if strategy is Strategy.CHEAPEST:
        tail = sync_tail(
            dataset,
            period=period,
            granularity=granularity,
            today=today,
            async_columns=async_columns,
        )
        cheapest = [
            step
            for account in account_ids
            for step in _cheapest_steps(
                dataset,
                account,
                period=period,
                tail=tail,
                granularity=granularity,
                ids=entity_ids.get(account),
                polls=report_polls,
            )
        ]
        return Plan(
            dataset=dataset.name,
            date_range=period,
            steps=tuple(cheapest),
            discovery_calls=discovery_calls,
            entity_lists=entity_lists,
            reason=_reason(cheapest, async_columns),
        )
    sync_cutoff = _sync_cutoff(dataset, granularity, today=today)
    old, recent = _split(
        period,
        cutoff=sync_cutoff,
        strategy=strategy,
        has_sync=_has_sync(dataset, async_columns),
        has_async=dataset.async_report is not None,
    )
    steps: list[PlanStep] = []
    for account in account_ids:
        if old is not None:
            steps.extend(_report_steps(dataset, account, old, granularity, report_polls))
        if recent is not None:
            ids = entity_ids.get(account, ())
            steps.extend(_sync_steps(dataset, account, recent, granularity, ids))
    return Plan(
        dataset=dataset.name,
        date_range=period,
        steps=tuple(steps),
        discovery_calls=discovery_calls,
        entity_lists=entity_lists,
        reason=_reason(steps, async_columns, cutoff=sync_cutoff, strategy=strategy),
    )


def _span(steps: Sequence[PlanStep], kind: StepKind) -> str:
    days = [(s.start, s.end) for s in steps if s.kind is kind and s.start and s.end]
    return f"{min(a for a, _ in days)}..{max(b for _, b in days)}" if days else ""


def _reason(
    steps: Sequence[PlanStep],
    async_columns: Sequence[str],
    *,
    cutoff: date | None = None,
    strategy: Strategy = Strategy.CHEAPEST,
) -> str:
    """Which path reads which days, and why: what a dry run shows."""
    reports, syncs = _span(steps, StepKind.REPORT), _span(steps, StepKind.SYNC)
    if not reports and not syncs:
        return "nothing to read"
    if not reports:
        return f"synchronous calls for {syncs}: every column is served synchronously"
    if async_columns:
        shown = ", ".join(async_columns[:3]) + (", ..." if len(async_columns) > 3 else "")
        count = len(async_columns)
        why = f"{count} column{'s' if count > 1 else ''} ({shown}) only async reports serve"
    elif strategy is Strategy.CHEAPEST:
        why = "report batches of the backfill"
    elif strategy is Strategy.REPORTS:
        why = "reports were asked for"
    else:
        why = f"days before {cutoff} lie beyond the synchronous endpoints' 90 days"
    if syncs:
        return (
            f"async reports for {reports} ({why}); synchronous calls for {syncs} "
            "(fewer calls, no report to wait for)"
        )
    return f"async reports for {reports}: {why}"


def _report_steps(
    dataset: Dataset, account: str, period: DateRange, granularity: Granularity, polls: int
) -> Iterator[PlanStep]:
    for window in date_windows(period, _report_max_days(dataset, granularity), granularity):
        yield PlanStep(
            step_id=f"report:{account}:{window.start}:{window.end}",
            kind=StepKind.REPORT,
            account_id=account,
            api_calls=1 + polls,
            start=window.start,
            end=window.end,
        )


def _cheapest_steps(
    dataset: Dataset,
    account: str,
    *,
    period: DateRange,
    tail: DateRange | None,
    granularity: Granularity,
    ids: Sequence[str] | None,
    polls: int,
) -> list[PlanStep]:
    """The account's report batches, the trailing ones swapped for synchronous calls when
    those cost no more (same days, same rows: reports are read as JSON, like the sync path)."""
    reports = list(_report_steps(dataset, account, period, granularity, polls))
    if tail is None or dataset.sync is None:
        return reports
    if ids is None and dataset.sync.id_param is not None:
        return reports
    syncs = list(_sync_steps(dataset, account, tail, granularity, ids or ()))
    replaced = [step for step in reports if step.start and step.start >= tail.start]
    if sum(s.api_calls for s in syncs) > sum(s.api_calls for s in replaced):
        return reports
    return [*(step for step in reports if step not in replaced), *syncs]


def _sync_steps(
    dataset: Dataset,
    account: str,
    period: DateRange,
    granularity: Granularity,
    ids: Sequence[str],
) -> Iterator[PlanStep]:
    assert dataset.sync is not None
    per_id = dataset.sync.id_param is not None
    batches = list(_batches(ids, MAX_IDS_PER_CALL)) if per_id else [()]
    windows = date_windows(period, _sync_max_days(dataset, granularity), granularity)
    return _sync_grid(account, windows, batches, per_id=per_id)


def _sync_grid(
    account: str,
    windows: Iterable[DateRange],
    batches: Sequence[tuple[str, ...]],
    *,
    per_id: bool,
) -> Iterator[PlanStep]:
    for window in windows:
        for batch in batches:
            suffix = f":{_digest(batch)}" if per_id else ""
            yield PlanStep(
                step_id=f"sync:{account}:{window.start}:{window.end}{suffix}",
                kind=StepKind.SYNC,
                account_id=account,
                api_calls=1,
                start=window.start,
                end=window.end,
                ids=batch,
            )


def resume_plan(
    previous: Plan,
    fresh: Plan,
    dataset: Dataset,
    *,
    account_ids: Sequence[str],
    entity_ids: Mapping[str, Sequence[str]],
    sync_from: date,
) -> Plan:
    """The plan of a resumed run: the steps of `previous` (the interrupted run's plan, which
    the destination may hold checkpoints of) kept as they were, so an entity created or
    archived meanwhile changes no step id: a re-planned id batch would be a new step, read
    again, and appended twice. Ids no previous batch holds (created or unarchived since) get
    batches of their own over the previous synchronous windows that start on or after
    `sync_from` (older days the endpoint no longer serves); an account without previous steps
    takes `fresh`'s."""
    steps: list[PlanStep] = []
    for account in account_ids:
        before = previous.steps_for(account)
        if not before:
            steps.extend(fresh.steps_for(account))
            continue
        steps.extend(before)
        new = _new_id_steps(dataset, account, before, entity_ids.get(account, ()), sync_from)
        steps.extend(new)
    return Plan(
        dataset=previous.dataset,
        date_range=previous.date_range,
        steps=tuple(steps),
        discovery_calls=fresh.discovery_calls,
        entity_lists=fresh.entity_lists,
        reason=fresh.reason,
    )


def _new_id_steps(
    dataset: Dataset,
    account: str,
    before: Sequence[PlanStep],
    ids: Sequence[str],
    sync_from: date,
) -> list[PlanStep]:
    """Steps reading the ids that none of `before`'s batches holds, over its sync windows."""
    if dataset.sync is None or dataset.sync.id_param is None:
        return []
    windows: dict[tuple[date, date], DateRange] = {}
    known: set[str] = set()
    for step in before:
        if step.kind is not StepKind.SYNC:
            continue
        known.update(step.ids)
        if step.start and step.end and step.start >= sync_from:
            windows[step.start, step.end] = DateRange(start=step.start, end=step.end)
    new = [entity for entity in ids if entity not in known]
    if not new or not windows:
        return []
    ordered = [windows[key] for key in sorted(windows)]
    return list(_sync_grid(account, ordered, list(_batches(new, MAX_IDS_PER_CALL)), per_id=True))


def plan_entities(
    dataset: Dataset,
    *,
    account_ids: Sequence[str],
    calls_per_account: Mapping[str, int],
    discovery_calls: int = 0,
) -> Plan:
    """Steps for an entity dataset: one LIST step per account (its pages, known in advance when
    the list was already read for discovery, else the one-page minimum). The ad account list
    is one step that costs nothing more: discovery already read it."""
    endpoint = dataset.list_endpoint
    if endpoint is not None and "{ad_account_id}" not in endpoint.path:
        step = PlanStep(step_id="list:ad_accounts", kind=StepKind.LIST, account_id="", api_calls=0)
        return Plan(
            dataset=dataset.name, date_range=None, steps=(step,), discovery_calls=discovery_calls
        )
    steps = tuple(
        PlanStep(
            step_id=f"list:{account}",
            kind=StepKind.LIST,
            account_id=account,
            api_calls=calls_per_account.get(account, 1),
        )
        for account in account_ids
    )
    return Plan(dataset=dataset.name, date_range=None, steps=steps, discovery_calls=discovery_calls)
