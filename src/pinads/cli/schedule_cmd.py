"""`pinads run-due` (run what is due once, for cron / systemd timers / Kubernetes CronJobs) and
`pinads scheduler` (one process that runs due sources until stopped)."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from pinads.cli.logs import formatter
from pinads.errors import PinadsError, StateError
from pinads.runner import RunResult, SourceStore, service
from pinads.runner.alerts import watch_authorizers
from pinads.runner.run import new_run_id
from pinads.runner.service import ClientOpener
from pinads.schedule import (
    MAX_SLEEP_SECONDS,
    DueCandidate,
    OutcomeStatus,
    Paused,
    RunOutcome,
    find_due,
    install_stop_signals,
    next_run_after,
    next_wake,
    run_due_once,
    serve,
    utc_now,
)
from pinads.settings import AppSettings, load_settings
from pinads.state import DatabaseError, LeaseKeeper, process_name
from pinads.values import Frequency, RunKind

__all__ = [
    "due_text",
    "load_candidates",
    "register",
    "run_due",
    "run_due_command",
    "run_scheduler",
    "scheduled_runner",
    "scheduler_command",
    "source_candidate",
]

_out = Console(highlight=False, soft_wrap=True)
log = logging.getLogger("pinads.schedule")
# Run history is searched this far back for the latest scheduled run of a source.
_HISTORY_LIMIT = 200
# A scheduler that stops renewing its lease (killed, hung, cut off) is replaced this soon.
LEASE_TTL = timedelta(seconds=30)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; the control DB stores UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def load_candidates(settings: AppSettings) -> list[DueCandidate]:
    """Saved sources with their schedule and latest scheduled start. A source whose saved
    config no longer validates is logged and left out, so it cannot stop the others."""
    try:
        store = SourceStore(settings)
        try:
            return [c for name in store.names() if (c := _candidate(store, name)) is not None]
        finally:
            store.close()
    except DatabaseError as exc:
        raise StateError(
            f"cannot read the sources from the control DB ({type(exc).__name__}): check "
            "PINADS_DATABASE_URL and that the database is up"
        ) from exc


def _candidate(store: SourceStore, name: str) -> DueCandidate | None:
    """The source as the scheduler sees it: schedule, latest scheduled start and creation time
    (a source never run is due at its first slot after it was created, not before)."""
    try:
        config = store.get(name)
        created = store.db.sources.get(name).created_at
    except (PinadsError, ValidationError) as exc:
        log.error("source %s cannot be read and is not scheduled: %s", name, exc)
        return None
    runs = store.runs(name, limit=_HISTORY_LIMIT)
    last = next((r.started_at for r in runs if r.kind == RunKind.SCHEDULED.value), None)
    return DueCandidate(
        name=name,
        schedule=config.schedule,
        last_run_started=_aware(last),
        created_at=_aware(created),
    )


def source_candidate(settings: AppSettings, name: str) -> DueCandidate | None:
    """One saved source as the scheduler sees it (None: it cannot be read)."""
    store = SourceStore(settings)
    try:
        return _candidate(store, name)
    finally:
        store.close()


def due_text(candidate: DueCandidate, *, now: datetime) -> str:
    """ "next due: ..." for `pinads sources show`: the next run in the schedule's zone (and
    UTC), or "now" when a slot is waiting for the scheduler."""
    schedule = candidate.schedule
    if schedule is None or schedule.frequency is Frequency.MANUAL:
        return f"next due: never (manual: start it with `pinads run {candidate.name}`)"
    waiting = find_due([candidate], now=now)
    if waiting:
        slot = waiting[0][1]
        return (
            f"next due: now (its {_when(slot, schedule.zone)} run has not started; "
            "`pinads run-due` or a running `pinads scheduler` starts it)"
        )
    upcoming = next_run_after(schedule, now, source_name=candidate.name)
    assert upcoming is not None  # every schedule but manual has future runs
    return f"next due: {_when(upcoming, schedule.zone)} ({schedule.describe()})"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    utc = f"{moment:%Y-%m-%d %H:%M} UTC"
    if zone.key in {"UTC", "GMT"}:
        return utc
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}, {utc}"


def _claim_due_slot(settings: AppSettings, name: str, now: datetime) -> tuple[int, datetime]:
    """The source's id and its slot due at `now`, claimed for this process; StateError when
    it is not due any more or another scheduler claimed it first."""
    candidate = source_candidate(settings, name)
    due = find_due([candidate], now=now) if candidate is not None else []
    if not due:
        raise StateError(
            f"source {name!r} already ran for this slot (another scheduler or run-due): "
            "nothing to do"
        )
    slot = due[0][1]
    store = SourceStore(settings)
    try:
        source_id = store.db.sources.get(name).id
        if not store.db.schedule.claim_slot(source_id, slot, claimed_by=process_name()):
            raise StateError(
                f"source {name!r}: its {slot:%Y-%m-%d %H:%M} UTC slot was claimed by another "
                "scheduler: nothing to do"
            )
    finally:
        store.close()
    return source_id, slot


def _release_slot(settings: AppSettings, source_id: int, slot: datetime) -> None:
    store = SourceStore(settings)
    try:
        store.db.schedule.release_slot(source_id, slot, claimed_by=process_name())
    finally:
        store.close()


def scheduled_runner(
    settings: AppSettings,
    opener: ClientOpener | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Callable[[str], RunResult | str | Paused]:
    """`run(name)` for the loop: a scheduled run through the runner (lock, history, re-sync),
    or `Paused` while the source's authorizer needs re-authorization (no run, no failure: it
    resumes at its next slot after `pinads auth reauthorize`).

    Due-ness is checked again just before the run (at `clock()`): another scheduler (or
    `run-due`) may have served the slot since the sources were listed, and the lock only covers
    runs in progress. Then the slot is claimed (a unique row per source and slot), so even two
    schedulers that both think they lead never both start it.
    """

    def run(name: str) -> RunResult | str | Paused:
        paused = service.pause_reason(name, settings=settings, now=clock())
        if paused is not None:
            return Paused(paused)
        source_id, slot = _claim_due_slot(settings, name, clock())
        if settings.broker_url:  # a worker runs it; the scheduler goes on at once
            from pinads.runner import remote  # Celery is loaded only when it is used

            request = remote.RunRequest(run_id=new_run_id(), source=name, kind=RunKind.SCHEDULED)
            remote.submit(settings, request)
            return f"queued for a worker as run {request.run_id}"
        try:
            return service.run(name, settings=settings, opener=opener, kind=RunKind.SCHEDULED)
        except StateError:
            # Refused (the source busy) or cut short: a run that started counts as the slot's
            # start in its history; one that never started is tried again at the next check.
            _release_slot(settings, source_id, slot)
            raise

    return run


def run_due(
    settings: AppSettings,
    *,
    opener: ClientOpener | None = None,
    now: datetime | None = None,
    max_workers: int = 1,
) -> list[RunOutcome]:
    """Run every source due now once (what `pinads run-due` does); `now` is for tests."""
    moment = now or utc_now()
    return run_due_once(
        load_candidates(settings),
        now=moment,
        run=scheduled_runner(settings, opener, clock=lambda: moment),
        max_workers=max_workers,
    )


def run_scheduler(
    settings: AppSettings,
    *,
    stop: threading.Event,
    opener: ClientOpener | None = None,
    max_workers: int = 1,
    max_sleep_seconds: float = MAX_SLEEP_SECONDS,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    lease_ttl: timedelta = LEASE_TTL,
) -> list[RunOutcome]:
    """Run due sources until `stop` is set (what `pinads scheduler` does). Of several
    schedulers on one control DB, only the holder of the scheduler lease runs anything; the
    others check every third of `lease_ttl` and take over once its holder stopped renewing."""
    store = SourceStore(settings)
    try:
        with LeaseKeeper(store.db.schedule, ttl=lease_ttl) as lease:

            def candidates() -> list[DueCandidate]:
                if not lease.leading:
                    return []
                watch_authorizers(settings)  # the leader alerts on dead or expiring ones
                return load_candidates(settings)

            return serve(
                candidates,
                run=scheduled_runner(settings, opener),
                stop=stop,
                max_workers=max_workers,
                max_sleep_seconds=min(max_sleep_seconds, lease_ttl.total_seconds() / 3),
                on_outcome=on_outcome,
            )
    finally:
        store.close()


def _outcome_line(outcome: RunOutcome) -> str:
    slot = f"{outcome.slot:%Y-%m-%d %H:%M} UTC"
    if outcome.status is OutcomeStatus.OK:
        result = outcome.result
        detail = (
            f"{result.rows_written} rows, {result.api_calls} API calls, "
            f"{result.duration_seconds:.1f} s (run {result.run_id})"
            if isinstance(result, RunResult)
            else str(result or "done")
        )
        return f"[green]ok[/]      {outcome.source} (due {slot}): {detail}"
    colour = "red" if outcome.status is OutcomeStatus.FAILED else "yellow"
    return (
        f"[{colour}]{outcome.status.value:<7}[/] {outcome.source} (due {slot}): "
        f"{escape(outcome.message)}"
    )


def _summary(outcomes: Sequence[RunOutcome], *, what: str = "due") -> str:
    counts = {status: 0 for status in OutcomeStatus}
    for outcome in outcomes:
        counts[outcome.status] += 1
    paused = counts[OutcomeStatus.PAUSED]
    return (
        f"{len(outcomes)} {what}: {counts[OutcomeStatus.OK]} ok, "
        f"{counts[OutcomeStatus.FAILED]} failed, {counts[OutcomeStatus.SKIPPED]} skipped"
        + (f", {paused} paused" if paused else "")
    )


def _next_text(candidates: Sequence[DueCandidate], now: datetime) -> str:
    upcoming = next_wake(candidates, now=now)
    if upcoming is None:
        return "no source has a schedule (set `schedule:` in a source, e.g. daily 06:00)"
    when, name = upcoming
    return f"next: {name} at {when:%Y-%m-%d %H:%M} UTC"


@contextlib.contextmanager
def _log_to_stderr() -> Iterator[None]:
    """The scheduler's own log lines (running, finished, skipped, failed) with timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter("%(asctime)s %(levelname)s %(message)s"))
    previous = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(min(logging.INFO, logging.getLogger().level or logging.INFO))
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous[0])
        log.propagate = previous[1]


Workers = Annotated[
    int, typer.Option("--workers", min=1, max=16, help="Sources run side by side (default 1).")
]


def run_due_command(
    workers: Workers = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what is due without running it.")
    ] = False,
) -> None:
    """Run every source that is due now, once, and exit (for cron, systemd timers or
    Kubernetes CronJobs). Exit status 1 when a run failed."""
    settings = load_settings()
    now = utc_now()
    candidates = load_candidates(settings)
    if dry_run:
        for candidate, slot in find_due(candidates, now=now):
            _out.print(f"due     {candidate.name} (due {slot:%Y-%m-%d %H:%M} UTC)")
        _out.print(_next_text(candidates, now))
        return
    with _log_to_stderr():
        watch_authorizers(settings)
        outcomes = run_due_once(
            candidates, now=now, run=scheduled_runner(settings), max_workers=workers
        )
    for outcome in outcomes:
        _out.print(_outcome_line(outcome))
    _out.print(_summary(outcomes) if outcomes else "nothing due")
    _out.print(_next_text(load_candidates(settings), utc_now()))
    if any(o.status is OutcomeStatus.FAILED for o in outcomes):
        raise typer.Exit(1)


def scheduler_command(
    workers: Workers = 1,
    max_sleep: Annotated[
        float,
        typer.Option("--max-sleep", min=1, help="Longest sleep between checks (seconds)."),
    ] = MAX_SLEEP_SECONDS,
    lease_seconds: Annotated[
        float,
        typer.Option(
            "--lease-seconds",
            min=1,
            help="Of several schedulers, the leader is replaced this soon after it died.",
        ),
    ] = LEASE_TTL.total_seconds(),
) -> None:
    """Run due sources until stopped (Ctrl-C or SIGTERM finish the run in progress first).
    A missed run is caught up once; one run per source at a time."""
    settings = load_settings()
    candidates = load_candidates(settings)
    scheduled = sum(1 for c in candidates if c.schedule is not None)
    _out.print(
        f"scheduler started: {scheduled} of {len(candidates)} sources scheduled; "
        f"{_next_text(candidates, utc_now())}; stop with Ctrl-C or SIGTERM"
    )
    stop = threading.Event()
    restore = install_stop_signals(stop)
    try:
        with _log_to_stderr():
            outcomes = run_scheduler(
                settings,
                stop=stop,
                max_workers=workers,
                max_sleep_seconds=max_sleep,
                on_outcome=lambda outcome: _out.print(_outcome_line(outcome)),
                lease_ttl=timedelta(seconds=lease_seconds),
            )
    finally:
        restore()
    _out.print(f"scheduler stopped: {_summary(outcomes, what='runs')}")


def register(app: typer.Typer) -> None:
    app.command("run-due")(run_due_command)
    app.command("scheduler")(scheduler_command)
