"""`run_source`: check the destination, take the run lock, turn the source into a run request,
discover, plan and run its steps (pinads.extract), record the run."""

from __future__ import annotations

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
from pinads.extract.discovery import discover
from pinads.extract.engine import DEFAULT_WORKERS
from pinads.extract.plan import Plan, PlanStep, StepKind, Strategy, earliest_day, resume_plan
from pinads.extract.planning import Discovery, make_plan
from pinads.extract.request import RunRequest
from pinads.extract.steps import ProgressCallback, RunProgress, StepHooks, run_steps
from pinads.load.spec import Destination
from pinads.runner.core import RunResult
from pinads.runner.grain import grain_to_check
from pinads.runner.request import BACKFILL_SCOPE, new_request, run_period
from pinads.sources.config import SourceConfig
from pinads.values import DateRange, RunKind

__all__ = ["RunLedger", "new_run_id", "plan_basis", "plan_source", "run_source"]

log = logging.getLogger(__name__)


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


def _hooks(ledger: RunLedger | None, run_id: str, progress: ProgressCallback | None) -> StepHooks:
    if ledger is None:
        return StepHooks(progress=progress)
    return StepHooks(
        progress=progress,
        on_step=lambda step, rows: ledger.step_done(run_id, step, rows),
        before_step=lambda: ledger.check_alive(run_id),
    )


def plan_basis(config: SourceConfig) -> str:
    """What a stored plan's steps depend on besides the range: the ids they batch (dataset)
    and their windows (granularity)."""
    return f"{config.dataset} {config.granularity.value}"


def _with_stored_plan(request: RunRequest, found: Discovery, plan: Plan, ledger: RunLedger) -> Plan:
    """A backfill follows the plan the last backfill of its range stored (resumed or repeated,
    the same steps: nothing written twice, whatever entities came or went meanwhile), plus
    steps for new ids; then it stores its own, before any step is written."""
    config, dataset = request.config, request.dataset
    basis = plan_basis(config)
    period = plan.date_range
    assert period is not None  # an analytics plan
    previous = ledger.stored_plan(
        source=config.name, start=period.start, end=period.end, basis=basis
    )
    if previous is not None:
        ids_from = dataset.ids_from
        plan = resume_plan(
            previous,
            plan,
            dataset,
            account_ids=list(found.accounts),
            entity_ids={a: e.ids(ids_from) for a, e in found.entities.items() if ids_from},
            sync_from=earliest_day(dataset, config.granularity, today=request.today, sync=True),
        )
    ledger.plan_made(request.run_id, plan, basis=basis)
    return plan


def _drop_rebuilt(destination: Destination, table_name: str) -> None:
    """Drop a failed rebuild's new table: the live table was never touched. A failure to drop
    it is logged, not raised, so the error that stopped the rebuild is the one reported (the
    next rebuild drops it first anyway)."""
    try:
        destination.abort_replace(table_name)
    except PinadsError as exc:
        log.warning("could not drop the unfinished rebuild of table %r: %s", table_name, exc)


def _restart(
    request: RunRequest, plan: Plan, destination: Destination, ledger: RunLedger | None
) -> None:
    """`backfill --restart`: forget the saved plans of the range and the checkpoints of their
    steps and of this plan's, so every step runs again."""
    period = plan.date_range
    steps = {step.step_id for step in plan.steps}
    if ledger is not None and period is not None:
        steps |= ledger.discard_plans(source=request.source, start=period.start, end=period.end)
    table = request.table.name
    destination.clear_steps(table, BACKFILL_SCOPE, step_ids=steps)


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def plan_source(
    config: SourceConfig,
    dataset: Dataset,
    client: PinterestClient,
    *,
    today: date,
    kind: RunKind = RunKind.MANUAL,
    period: DateRange | None = None,
    report_polls: int = 1,
) -> Plan:
    """The plan a run would follow (`pinads run --dry-run`): reads accounts and entity lists,
    makes no analytics call and writes nothing."""
    request = new_request(
        config,
        dataset,
        kind=kind,
        run_id=new_run_id(),
        today=today,
        period=run_period(config, dataset, kind=kind, today=today, period=period),
        report_polls=report_polls,
    )
    found = discover(request, client)
    found.close()
    return make_plan(request, found)


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
    # A table pinads did not create is refused, and one it created for another grain.
    destination.check_table(config.name, grain=grain_to_check(config, kind))
    today = today or datetime.now(UTC).date()
    run_id = run_id or new_run_id()  # a ledger may hold the source's lock for it already
    started = time.monotonic()
    before = client.stats
    span = run_period(config, dataset, kind=kind, today=today, period=period)
    if ledger is not None:
        ledger.begin(
            source=config.name,
            kind=kind.value,
            run_id=run_id,
            start=span.start if span else None,
            end=span.end if span else None,
        )
    try:
        request = new_request(
            config,
            dataset,
            kind=kind,
            run_id=run_id,
            today=today,
            period=span,
            strategy=strategy,
            restart=restart,
            workers=workers,
            polling=polling,
        )
        hooks = _hooks(ledger, run_id, progress)
        result = _run(
            request,
            client,
            destination,
            ledger=ledger,
            hooks=hooks,
            on_plan=on_plan,
            started=started,
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
    request: RunRequest,
    client: PinterestClient,
    destination: Destination,
    *,
    ledger: RunLedger | None,
    hooks: StepHooks,
    on_plan: Callable[[Plan], None] | None,
    started: float,
) -> RunResult:
    before = client.stats
    found = discover(request, client)
    try:
        plan = _final_plan(request, found, destination, ledger)
        if on_plan is not None:
            on_plan(plan)
        counters = _write(request, plan, found, client, destination, hooks=hooks)
    finally:
        found.close()
    after = client.stats
    span = request.period
    return RunResult(
        run_id=request.run_id,
        source=request.source,
        kind=request.kind,
        start=span.start if span else None,
        end=span.end if span else None,
        table=request.table.name,
        destination=destination.url,
        rows_written=counters.rows,
        rows_retrieved=counters.rows_retrieved,
        steps=len(plan.steps),
        steps_skipped=counters.steps_skipped,
        steps_reset=counters.steps_reset,
        api_calls=after.calls - before.calls,
        planned_calls=plan.api_calls,
        planned_is_minimum=any(step.kind is StepKind.REPORT for step in plan.steps),
        rate_limited=after.rate_limited_responses - before.rate_limited_responses,
        waited_seconds=round(after.waited_seconds - before.waited_seconds, 3),
        duration_seconds=round(time.monotonic() - started, 3),
        skipped_accounts=found.skipped_accounts,
    )


def _final_plan(
    request: RunRequest, found: Discovery, destination: Destination, ledger: RunLedger | None
) -> Plan:
    """The plan, with what a backfill and a rebuild do before their first step."""
    plan = make_plan(request, found)
    if request.kind is RunKind.BACKFILL:
        if request.restart:
            _restart(request, plan, destination, ledger)
        if ledger is not None and request.dataset.is_analytics:
            plan = _with_stored_plan(request, found, plan, ledger)
    if request.kind is RunKind.REBUILD:
        # A new table from nothing: no shadow a crashed replace run or rebuild left.
        destination.abort_replace(request.table.name)
    elif ledger is not None and ledger.rebuild_left_behind(request.source, request.run_id):
        # A killed rebuild's new table holds rows of the config that was never saved: a
        # replace run would resume it as its own shadow table and swap those rows in.
        destination.abort_replace(request.table.name)
    return plan


def _write(
    request: RunRequest,
    plan: Plan,
    found: Discovery,
    client: PinterestClient,
    destination: Destination,
    *,
    hooks: StepHooks,
) -> RunProgress:
    try:
        return run_steps(request, plan, found, client, destination, hooks=hooks)
    except BaseException:
        if request.kind is RunKind.REBUILD:
            _drop_rebuilt(destination, request.table.name)
        raise
