"""`pinads run`, `pinads runs`, `pinads preview`, `pinads backfill`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pinads.catalog import get_dataset
from pinads.cli.audit_trail import record_cli
from pinads.cli.sources_cmd import _read_file, preview_table
from pinads.errors import AccessDeniedError, ConfigError
from pinads.extract import RunProgress
from pinads.extract.plan import Plan, StepKind, earliest_day
from pinads.runner import service
from pinads.runner.core import RunResult
from pinads.runner.preview import Diagnosis, PreviewResult
from pinads.values import DateRange, RunKind

__all__ = [
    "backfill_start_problem",
    "print_backfill_plan",
    "print_plan",
    "print_result",
    "rebuild_with_progress",
    "register",
]


def _out() -> Console:
    """A console sized when it prints (the terminal, or COLUMNS, of this invocation)."""
    return Console(highlight=False, soft_wrap=True)


FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date: write YYYY-MM-DD") from None


def _period(start: str | None, end: str | None) -> DateRange | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ConfigError("give both --from and --to (YYYY-MM-DD), or neither")
    first, last = _day(start, "--from"), _day(end, "--to")
    try:
        return DateRange(start=first, end=last)
    except ValidationError:
        raise ConfigError(f"--to {last} is before --from {first}: swap them") from None


def backfill_start_problem(source: str, start: date, *, today: date) -> str | None:
    """Why `--from` cannot be backfilled (past Pinterest's history limit for the source's
    dataset and granularity), naming the earliest day that can, or None."""
    config = service.get_source(source)
    dataset = get_dataset(config.dataset)
    if not dataset.is_analytics:
        return None
    granularity = config.granularity
    earliest = earliest_day(dataset, granularity, today=today, sync=False)
    if start >= earliest:
        return None
    reach = "async reports" if dataset.async_report is not None else "its analytics endpoint"
    return (
        f"--from {start} is past Pinterest's limit: {dataset.name} ({granularity.value}) "
        f"keeps {(today - earliest).days} days of history through {reach}, so the earliest day "
        f"is {earliest}; run `pinads backfill {source} --from {earliest}`"
    )


def print_plan(plan: Plan, console: Console | None = None) -> None:
    console = console or _out()
    span = f" {plan.date_range}" if plan.date_range else ""
    reports = sum(step.kind is StepKind.REPORT for step in plan.steps)
    minimum = "at least " if reports else ""
    console.print(
        f"plan for {plan.dataset}{span}: {len(plan.steps)} steps, {minimum}{plan.api_calls} API "
        f"calls ({plan.discovery_calls} to list accounts and entities"
        + (f"; {reports} async reports, one more call per extra poll" if reports else "")
        + ")"
    )
    if plan.reason:
        console.print(f"path: {plan.reason}")
    for step in plan.steps[:20]:
        console.print(f"  {step.step_id}  {step.api_calls} call(s)  {step.describe()}")
    if len(plan.steps) > 20:
        console.print(f"  ... {len(plan.steps) - 20} more steps")


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def print_backfill_plan(plan: Plan, console: Console, *, what: str = "backfill") -> None:
    """What a backfill (or a rebuild) will do, before it starts: its batches, and which ones
    are read synchronously because that is cheaper than an async report."""
    reports = [step for step in plan.steps if step.kind is StepKind.REPORT]
    syncs = [step for step in plan.steps if step.kind is StepKind.SYNC]
    parts = [_count(len(reports), "async report")] if reports else []
    if syncs:
        first = min(step.start for step in syncs if step.start)
        last = max(step.end for step in syncs if step.end)
        parts.append(
            f"{_count(len(syncs), 'synchronous call')} for {first}..{last} (cheaper than a report)"
        )
    span = f" {plan.date_range}" if plan.date_range else ""
    minimum = "at least " if reports else ""
    console.print(
        f"{what}{span}: {_count(len(plan.steps), 'batch', 'batches')}, "
        f"{' and '.join(parts) or 'nothing to read'}; "
        f"{minimum}{plan.api_calls} API calls"
    )


# Runs whose range is cut into report batches (the planner's cheapest strategy).
_BATCHED = (RunKind.BACKFILL, RunKind.REBUILD)


def print_result(result: RunResult, console: Console | None = None) -> None:
    console = console or _out()
    span = f" {result.start}..{result.end}" if result.start else ""
    unit = ("batch", "batches") if result.kind in _BATCHED else ("step", "steps")
    console.print(
        f"[bold green]done[/] {result.kind.value} run {result.run_id} of {result.source}{span}: "
        f"{result.rows_written} rows into {result.table} ({escape(result.destination)}), "
        f"{_count(result.steps, *unit)} ({result.steps_skipped} already done), "
        f"{result.api_calls} API calls (planned {'at least ' if result.planned_is_minimum else ''}"
        f"{result.planned_calls}), {result.rate_limited} rate limits waited, "
        f"{result.duration_seconds:.1f} s"
    )
    if result.steps_reset:
        console.print(
            f"table {result.table} was gone from the destination or emptied: "
            f"{_count(result.steps_reset, *unit)} recorded as done were loaded again"
        )
    if result.skipped_accounts:
        console.print(
            f"skipped ad accounts without an analytics role: {', '.join(result.skipped_accounts)}"
        )


class _Bar:
    """A progress bar on stderr fed by the runner's callbacks: steps (a backfill's batches),
    rows, API calls and the time left. It appears once the plan is known (nothing to show
    before) and is cleared at the end, when the summary line replaces it."""

    def __init__(self, *, kind: RunKind) -> None:
        self.kind = kind
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rows]:,} rows, {task.fields[calls]} API calls, ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        unit = "batches" if kind in _BATCHED else "steps"
        self.task = self.progress.add_task(unit, total=None, rows=0, calls=0)
        self.started = False

    def plan(self, plan: Plan) -> None:
        if self.kind in _BATCHED:
            print_backfill_plan(plan, self.console, what=self.kind.value)
        self.progress.update(self.task, total=len(plan.steps), calls=plan.discovery_calls)
        self.progress.start()
        self.started = True

    def stop(self) -> None:
        if self.started:  # stopping a bar never shown would still print a blank line
            self.progress.stop()

    def update(self, state: RunProgress) -> None:
        self.progress.update(
            self.task, completed=state.steps_shown, rows=state.rows_shown, calls=state.api_calls
        )


def _run(
    name: str,
    *,
    kind: RunKind,
    period: DateRange | None,
    backfill_from: date | None,
    restart: bool = False,
) -> None:
    if backfill_from is not None:
        record_cli("backfill.start", name, start=backfill_from, restart=restart)
    else:
        record_cli("run.start", name, kind=kind.value)
    bar = _Bar(kind=kind)
    try:
        if backfill_from is not None:
            result = service.backfill(
                name,
                start=backfill_from,
                end=period.end if period else None,
                progress=bar.update,
                on_plan=bar.plan,
                restart=restart,
            )
        else:
            result = service.run(
                name, kind=kind, period=period, progress=bar.update, on_plan=bar.plan
            )
    finally:
        bar.stop()
    print_result(result)


def rebuild_with_progress(document: dict[str, Any]) -> None:
    """`sources edit --rebuild`: rebuild the table with the new config, with a progress bar,
    then say what was saved."""
    name = str(document["name"])
    bar = _Bar(kind=RunKind.REBUILD)
    try:
        _, result = service.update_source(
            document, rebuild=True, progress=bar.update, on_plan=bar.plan
        )
    finally:
        bar.stop()
    if result is None:
        _out().print(
            f"updated source [bold]{name}[/] (it has written no rows yet: nothing to rebuild)"
        )
        return
    print_result(result)
    _out().print(f"updated source [bold]{name}[/]: its table was rebuilt with the new config")


def _runs_table(source: str | None, limit: int) -> Table:
    table = Table(title="runs", title_justify="left")
    for column in (
        "id",
        "source",
        "kind",
        "range",
        "status",
        "rows",
        "calls",
        "429s",
        "s",
        "error",
    ):
        table.add_column(column, overflow="fold")
    for run in service.list_runs(source, limit=limit):
        span = f"{run.range_start}..{run.range_end}" if run.range_start else ""
        table.add_row(
            run.id,
            run.source,
            run.kind,
            span,
            run.status,
            str(run.rows_written),
            str(run.api_calls),
            str(run.rate_limited),
            f"{run.duration_seconds:.1f}" if run.duration_seconds is not None else "",
            escape(run.error or ""),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        source: str,
        start: FromOpt = None,
        end: ToOpt = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    ) -> None:
        """Run a source now (its date range, or --from/--to)."""
        period = _period(start, end)
        if dry_run:
            print_plan(service.dry_run(source, period=period))
            return
        _run(source, kind=RunKind.MANUAL, period=period, backfill_from=None)

    @app.command("backfill")
    def backfill(
        source: str,
        start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
        end: ToOpt = None,
        restart: Annotated[
            bool,
            typer.Option(
                "--restart",
                help="Discard the saved progress and plan of this range: every batch runs again.",
            ),
        ] = False,
    ) -> None:
        """Load history through async reports (<= 186-day batches), resumable: run it again
        with the same --from after a crash and it continues the interrupted range from its
        first unfinished batch, following the batches it planned (--restart starts over)."""
        first = _day(start, "--from")
        period = _period(start, end) if end else None
        problem = backfill_start_problem(source, first, today=datetime.now(UTC).date())
        if problem is not None:
            raise ConfigError(problem)
        _run(source, kind=RunKind.BACKFILL, period=period, backfill_from=first, restart=restart)

    @app.command("runs")
    def runs(
        source: Annotated[str | None, typer.Argument(help="Only this source.")] = None,
        limit: Annotated[int, typer.Option("--limit", "-n", help="How many.")] = 20,
    ) -> None:
        """Run history: kind, range, status, rows, API calls, 429s, duration, error. A run
        whose process died shows as interrupted, with the command that resumes it."""
        _out().print(_runs_table(source, limit))

    @app.command("preview")
    def preview(source_or_file: str, start: FromOpt = None, end: ToOpt = None) -> None:
        """Test Data: the exact config on a small range, or why there is no data."""
        path = Path(source_or_file)
        target = _read_file(path) if path.suffix in (".yaml", ".yml") else source_or_file
        result = service.preview(target, period=_period(start, end))
        if result.has_data:
            _out().print(preview_table(result))
            return
        _refuse_config_diagnosis(result)
        _out().print(escape(result.message))
        raise typer.Exit(1)


# Previews without rows because of the config (the user changes it: exit 2 like `sources
# create`) or the account roles (exit 3); a truly empty range is no error of the config.
_CONFIG_DIAGNOSES = frozenset(
    {
        Diagnosis.RANGE_TOO_LARGE,
        Diagnosis.INVALID_SELECTION,
        Diagnosis.INCOMPATIBLE_COMBINATION,
    }
)


def _refuse_config_diagnosis(result: PreviewResult) -> None:
    if result.diagnosis in _CONFIG_DIAGNOSES:
        raise ConfigError(f"{result.message}; fix the source and preview it again")
    if result.diagnosis is Diagnosis.INSUFFICIENT_PERMISSIONS:
        raise AccessDeniedError(result.message)
