"""`run_source`: check the destination, take the run lock, prepare, execute, record the run."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Protocol

from pinads.api.client import PinterestClient
from pinads.api.reports import ReportPolling
from pinads.catalog.model import Dataset
from pinads.errors import PinadsError, redact
from pinads.extract.engine import DEFAULT_WORKERS
from pinads.extract.plan import Plan, PlanStep, StepKind, Strategy, earliest_day, resume_plan
from pinads.load.spec import CheckedTables, Destination
from pinads.runner.core import ProgressCallback, RunResult, execute_run
from pinads.runner.grain import grain_to_check
from pinads.runner.prepare import Prepared, effective_period, prepare
from pinads.sources.config import SourceConfig
from pinads.values import DateRange, RunKind, WriteMode

__all__ = ["BACKFILL_SCOPE", "RunLedger", "plan_basis", "plan_source", "run_source"]

log = logging.getLogger(__name__)

BACKFILL_SCOPE = "backfill"  # backfill checkpoints persist across invocations (resume)


class RunLedger(Protocol):
    """Run history and the one-run-per-source lock (the control DB implements it)."""

    def begin(
        self, *, source: str, kind: str, run_id: str, start: date | None, end: date | None
    ) -> None:
        """Record a started run and take the source's lock (StateError when it is held)."""

    def step_done(self, run_id: str, step: PlanStep, rows: int) -> None:
        """After each committed step (raises StateError if the run lost its lock)."""

    def check_alive(self, run_id: str) -> None:
        """Before each step is written: raise StateError if the run can no longer record it
        (its lock taken over, its control DB gone)."""

    def stored_plan(self, *, source: str, start: date, end: date, basis: str) -> Plan | None:
        """The plan the source's latest backfill of `start..end` on the same `basis` stored
        (None: plan afresh)."""

    def plan_made(self, run_id: str, plan: Plan, *, basis: str) -> None:
        """Keep a backfill's plan, before its first step is written."""

    def rebuild_left_behind(self, source: str, run_id: str) -> bool:
        """Whether the source's previous run was a rebuild that did not finish (its new
        table may still be in the destination)."""

    def discard_plans(self, *, source: str, start: date, end: date) -> set[str]:
        """Delete the plans stored by the source's backfills of `start..end`; return their
        step ids (`backfill --restart`)."""

    def finish(
        self,
        run_id: str,
        *,
        result: RunResult | None,
        error: str | None,
        api_calls: int = 0,
        rate_limited: int = 0,
    ) -> None:
        """Record the outcome and release the lock. A failed run has no result: `api_calls` and
        `rate_limited` say what it spent before failing."""


def _step_hook(ledger: RunLedger | None, run_id: str) -> Callable[[PlanStep, int], None] | None:
    if ledger is None:
        return None
    return lambda step, rows: ledger.step_done(run_id, step, rows)


def strategy_of(kind: RunKind) -> Strategy:
    """Backfills and rebuilds cut their range into report batches (reading the trailing ones
    synchronously when cheaper); other runs read the last 90 days synchronously and older days
    by reports."""
    return Strategy.CHEAPEST if kind in (RunKind.BACKFILL, RunKind.REBUILD) else Strategy.AUTO


def plan_basis(config: SourceConfig) -> str:
    """What a stored plan's steps depend on besides the range: the ids they batch (dataset)
    and their windows (granularity)."""
    return f"{config.dataset} {config.granularity.value}"


def _with_stored_plan(
    prepared: Prepared, ledger: RunLedger, *, run_id: str, today: date
) -> Prepared:
    """A backfill follows the plan the last backfill of its range stored (resumed or repeated,
    the same steps: nothing written twice, whatever entities came or went meanwhile), plus
    steps for new ids; then it stores its own, before any step is written."""
    config, dataset = prepared.config, prepared.dataset
    basis = plan_basis(config)
    period = prepared.plan.date_range
    assert period is not None  # an analytics plan
    previous = ledger.stored_plan(
        source=config.name, start=period.start, end=period.end, basis=basis
    )
    if previous is not None:
        ids_from = dataset.ids_from
        plan = resume_plan(
            previous,
            prepared.plan,
            dataset,
            account_ids=list(prepared.accounts),
            entity_ids={a: e.ids(ids_from) for a, e in prepared.entities.items() if ids_from},
            sync_from=earliest_day(dataset, config.granularity, today=today, sync=True),
        )
        prepared = dataclasses.replace(prepared, plan=plan)
    ledger.plan_made(run_id, prepared.plan, basis=basis)
    return prepared


def _drop_rebuilt(destination: Destination, table_name: str) -> None:
    """Drop a failed rebuild's new table: the live table was never touched. A failure to drop
    it is logged, not raised, so the error that stopped the rebuild is the one reported (the
    next rebuild drops it first anyway)."""
    try:
        destination.abort_replace(table_name)
    except PinadsError as exc:
        log.warning("could not drop the unfinished rebuild of table %r: %s", table_name, exc)


def _restart(prepared: Prepared, destination: Destination, ledger: RunLedger | None) -> None:
    """`backfill --restart`: forget the saved plans of the range and the checkpoints of their
    steps and of this plan's, so every step runs again."""
    period = prepared.plan.date_range
    steps = {step.step_id for step in prepared.plan.steps}
    if ledger is not None and period is not None:
        steps |= ledger.discard_plans(
            source=prepared.config.name, start=period.start, end=period.end
        )
    table = prepared.table.name
    if isinstance(destination, CheckedTables):
        destination.clear_steps(table, BACKFILL_SCOPE, step_ids=steps)
    else:
        destination.clear_steps(table, BACKFILL_SCOPE)


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def _plan_period(
    config: SourceConfig, *, kind: RunKind, today: date, period: DateRange | None
) -> DateRange:
    return effective_period(
        config, today=today, explicit=period, resync=kind is RunKind.SCHEDULED or period is None
    )


def plan_source(
    config: SourceConfig,
    dataset: Dataset,
    client: PinterestClient,
    *,
    today: date,
    kind: RunKind = RunKind.MANUAL,
    period: DateRange | None = None,
    report_polls: int = 1,
) -> Prepared:
    """The plan a run would follow (`pinads run --dry-run`): reads accounts and entity lists,
    makes no analytics call and writes nothing."""
    span = (
        _plan_period(config, kind=kind, today=today, period=period)
        if dataset.is_analytics
        else None
    )
    return prepare(
        client,
        config,
        dataset,
        period=span,
        today=today,
        strategy=strategy_of(kind),
        report_polls=report_polls,
    )


def run_source(
    config: SourceConfig,
    dataset: Dataset,
    *,
    client: PinterestClient,
    destination: Destination,
    ledger: RunLedger | None = None,
    run_id: str | None = None,
    today: date | None = None,
    kind: RunKind = RunKind.MANUAL,
    period: DateRange | None = None,
    progress: ProgressCallback | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    polling: ReportPolling | None = None,
    strategy: Strategy | None = None,
    restart: bool = False,
) -> RunResult:
    """Run a source once: destination check before any API call, lock, plan, steps, record.
    `strategy` overrides the kind's (tests compare the report and synchronous paths);
    `restart` makes a backfill discard its range's saved plan and progress first.

    A rebuild (kind REBUILD) writes the whole `period` into a new table, swapped in for the
    source's table only once complete (the replace mode's shadow table); if it fails, the new
    table is dropped and the old one is left as it was."""
    destination.check()
    if isinstance(destination, CheckedTables):
        # A table pinads did not create is refused, and one it created for another grain.
        destination.check_table(config.name, grain=grain_to_check(config, kind))
    if kind is RunKind.REBUILD:
        config = config.model_copy(update={"write_mode": WriteMode.REPLACE})
    today = today or datetime.now(UTC).date()
    run_id = run_id or new_run_id()  # a ledger may hold the source's lock for it already
    started = time.monotonic()
    before = client.stats
    span = (
        _plan_period(config, kind=kind, today=today, period=period)
        if dataset.is_analytics
        else None
    )
    if ledger is not None:
        ledger.begin(
            source=config.name,
            kind=kind.value,
            run_id=run_id,
            start=span.start if span else None,
            end=span.end if span else None,
        )
    try:
        result = _run(
            config,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=kind,
            span=span,
            run_id=run_id,
            progress=progress,
            on_plan=on_plan,
            workers=workers,
            polling=polling,
            started=started,
            ledger=ledger,
            strategy=strategy or strategy_of(kind),
            restart=restart,
        )
    except Exception as exc:  # recorded as failed (a bug too, not left "running"), raised on
        if ledger is not None:
            spent = client.stats
            ledger.finish(
                run_id,
                result=None,
                error=_failure_text(exc),
                api_calls=spent.calls - before.calls,
                rate_limited=spent.rate_limited_responses - before.rate_limited_responses,
            )
        raise
    if ledger is not None:
        ledger.finish(run_id, result=result, error=None)
    return result


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, PinadsError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {redact(str(exc))}"


def _run(
    config: SourceConfig,
    dataset: Dataset,
    *,
    client: PinterestClient,
    destination: Destination,
    today: date,
    kind: RunKind,
    span: DateRange | None,
    run_id: str,
    progress: ProgressCallback | None,
    on_plan: Callable[[Plan], None] | None,
    workers: int,
    polling: ReportPolling | None,
    started: float,
    strategy: Strategy,
    ledger: RunLedger | None,
    restart: bool = False,
) -> RunResult:
    before = client.stats
    prepared = prepare(client, config, dataset, period=span, today=today, strategy=strategy)
    backfill = kind is RunKind.BACKFILL
    if backfill and restart:
        _restart(prepared, destination, ledger)
    if backfill and ledger is not None and dataset.is_analytics:
        prepared = _with_stored_plan(prepared, ledger, run_id=run_id, today=today)
    rebuild = kind is RunKind.REBUILD
    if rebuild:  # a new table from nothing: no shadow a crashed replace run or rebuild left
        destination.abort_replace(prepared.table.name)
    elif ledger is not None and ledger.rebuild_left_behind(config.name, run_id):
        # A killed rebuild's new table holds rows of the config that was never saved: a
        # replace run would resume it as its own shadow table and swap those rows in.
        destination.abort_replace(prepared.table.name)
    try:
        if on_plan is not None:
            on_plan(prepared.plan)
        counters = execute_run(
            prepared,
            client,
            destination,
            run_id=run_id,
            scope=BACKFILL_SCOPE if backfill else f"run:{run_id}",
            progress=progress,
            resume=backfill,
            workers=workers,
            polling=polling,
            on_step=_step_hook(ledger, run_id),
            before_step=(lambda: ledger.check_alive(run_id)) if ledger is not None else None,
        )
    except BaseException:
        if rebuild:
            _drop_rebuilt(destination, prepared.table.name)
        raise
    finally:
        prepared.close()
    after = client.stats
    return RunResult(
        run_id=run_id,
        source=config.name,
        kind=kind,
        start=span.start if span else None,
        end=span.end if span else None,
        table=prepared.table.name,
        destination=destination.url,
        rows_written=counters.rows,
        rows_retrieved=counters.rows_retrieved,
        steps=len(prepared.plan.steps),
        steps_skipped=counters.steps_skipped,
        steps_reset=counters.steps_reset,
        api_calls=after.calls - before.calls,
        planned_calls=prepared.plan.api_calls,
        planned_is_minimum=any(step.kind is StepKind.REPORT for step in prepared.plan.steps),
        rate_limited=after.rate_limited_responses - before.rate_limited_responses,
        waited_seconds=round(after.waited_seconds - before.waited_seconds, 3),
        duration_seconds=round(time.monotonic() - started, 3),
        skipped_accounts=prepared.skipped_accounts,
    )
