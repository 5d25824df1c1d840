"""The run-due loop: decide which sources are due, run them, sleep until the next one.

Everything it touches comes in as plain values and callables (the candidates, `run`, the clock,
the wait), so it is tested with an in-memory list, a recording `run` and frozen time. The CLI
wires it to the control DB and the runner.

One run per source at a time: within this process, a source is never started twice for one
slot; across processes the runner's run lock refuses a second run, which the loop logs and
skips (`StateError`).
"""

from __future__ import annotations

import enum
import logging
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from pinads.errors import PinadsError, StateError, redact
from pinads.schedule.timing import due_slot, next_run_after
from pinads.values import Schedule

__all__ = [
    "MAX_SLEEP_SECONDS",
    "DueCandidate",
    "OutcomeStatus",
    "Paused",
    "RunOutcome",
    "find_due",
    "install_stop_signals",
    "next_wake",
    "run_due_once",
    "serve",
    "utc_now",
]

MAX_SLEEP_SECONDS = 60.0  # upper bound on one sleep, so edited or new sources are seen soon
log = logging.getLogger("pinads.schedule")

RunFunc = Callable[[str], object]
"""Runs one source by name (a scheduled run); raises a PinadsError when the run fails, returns
`Paused` when the source cannot run now."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DueCandidate:
    """A saved source as the scheduler sees it."""

    name: str
    schedule: Schedule | None
    last_run_started: datetime | None = None  # the latest scheduled run's start, if any
    created_at: datetime | None = None


class OutcomeStatus(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # another run of the source holds its lock
    PAUSED = "paused"  # not started: its authorizer needs re-authorization


@dataclass(frozen=True, slots=True)
class Paused:
    """What `run` returns instead of running a source that cannot run now (its authorizer
    needs re-authorization): the slot is passed over, not failed, and the source runs again
    at its next slot once the cause is gone."""

    reason: str


@dataclass(frozen=True, slots=True)
class RunOutcome:
    source: str
    slot: datetime  # the scheduled time this run served
    status: OutcomeStatus
    message: str = ""
    result: object = None  # what `run` returned (the runner's RunResult)


def find_due(
    candidates: Iterable[DueCandidate],
    *,
    now: datetime,
    attempted: Mapping[str, datetime] | None = None,
) -> list[tuple[DueCandidate, datetime]]:
    """The candidates due at `now`, each with the slot it serves, in the order given.
    `attempted` holds, per source, when this process last started it (run, failed or skipped),
    which counts as a start so one slot is never tried twice."""
    attempted = attempted or {}
    due: list[tuple[DueCandidate, datetime]] = []
    for candidate in candidates:
        if candidate.schedule is None:
            continue
        starts = [t for t in (candidate.last_run_started, attempted.get(candidate.name)) if t]
        slot = due_slot(
            candidate.schedule,
            last_run_started=max(starts) if starts else None,
            now=now,
            source_created=candidate.created_at,
            source_name=candidate.name,
        )
        if slot is not None:
            due.append((candidate, slot))
    return due


def run_due_once(
    candidates: Iterable[DueCandidate],
    *,
    now: datetime,
    run: RunFunc,
    max_workers: int = 1,
    should_stop: Callable[[], bool] | None = None,
    attempted: dict[str, datetime] | None = None,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Run every source due at `now` once, sequentially or on up to `max_workers` threads.

    A failing source does not stop the others; sources not yet started when `should_stop`
    turns true are left for later. `attempted` (if given) is updated with `now` per source.
    """
    due = find_due(candidates, now=now, attempted=attempted)
    stop = should_stop or (lambda: False)

    def one(item: tuple[DueCandidate, datetime]) -> RunOutcome | None:
        candidate, slot = item
        if stop():
            return None
        if attempted is not None:
            attempted[candidate.name] = now
        outcome = _run_one(candidate.name, slot, run)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    if max_workers <= 1 or len(due) <= 1:
        outcomes = [one(item) for item in due]
    else:
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pinads-run") as pool:
            outcomes = list(pool.map(one, due))
    return [outcome for outcome in outcomes if outcome is not None]


def _run_one(name: str, slot: datetime, run: RunFunc) -> RunOutcome:
    # The source and slot as fields too, for `--log-format json`.
    fields = {"source": name, "slot": slot.isoformat()}
    log.info("running %s (scheduled for %s)", name, slot.isoformat(), extra=fields)
    try:
        result = run(name)
        if isinstance(result, Paused):
            log.warning("%s %s", name, result.reason, extra={**fields, "outcome": "paused"})
            return RunOutcome(name, slot, OutcomeStatus.PAUSED, result.reason)
    except StateError as exc:
        log.warning("skipped %s: %s", name, exc, extra={**fields, "outcome": "skipped"})
        return RunOutcome(name, slot, OutcomeStatus.SKIPPED, str(exc))
    except PinadsError as exc:
        log.error("failed %s: %s", name, exc, extra={**fields, "outcome": "failed"})
        return RunOutcome(name, slot, OutcomeStatus.FAILED, str(exc))
    except Exception as exc:  # scheduler top level: one source's bug must not stop the others
        message = f"unexpected {type(exc).__name__}: {redact(str(exc))}"
        log.exception("failed %s: %s", name, message, extra={**fields, "outcome": "failed"})
        return RunOutcome(name, slot, OutcomeStatus.FAILED, message)
    log.info("finished %s", name, extra={**fields, "outcome": "ok"})
    return RunOutcome(name, slot, OutcomeStatus.OK, result=result)


def next_wake(candidates: Iterable[DueCandidate], *, now: datetime) -> tuple[datetime, str] | None:
    """The earliest upcoming run after `now` and its source, or None when nothing is scheduled."""
    upcoming = [
        (when, candidate.name)
        for candidate in candidates
        if candidate.schedule is not None
        and (when := next_run_after(candidate.schedule, now, source_name=candidate.name))
    ]
    return min(upcoming) if upcoming else None


def serve(
    candidates: Callable[[], Sequence[DueCandidate]],
    *,
    run: RunFunc,
    stop: threading.Event,
    clock: Callable[[], datetime] = utc_now,
    wait: Callable[[float], object] | None = None,
    max_sleep_seconds: float = MAX_SLEEP_SECONDS,
    max_workers: int = 1,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Run due sources until `stop` is set; returns every outcome, in order.

    Candidates are read again at every wake-up, so new and edited sources are picked up within
    `max_sleep_seconds`. `wait(seconds)` sleeps (default: `stop.wait`, which wakes at once
    when a signal sets `stop`); a run in progress is finished before the loop stops.
    """
    sleep = wait or stop.wait
    attempted: dict[str, datetime] = {}
    outcomes: list[RunOutcome] = []
    while not stop.is_set():
        try:
            listed = candidates()
        except PinadsError as exc:  # e.g. the control DB restarting: try again shortly
            log.error("could not read the sources, retrying in %.0f s: %s", max_sleep_seconds, exc)
            sleep(max_sleep_seconds)
            continue
        outcomes += run_due_once(
            listed,
            now=clock(),
            run=run,
            max_workers=max_workers,
            should_stop=stop.is_set,
            attempted=attempted,
            on_outcome=on_outcome,
        )
        if stop.is_set():
            break
        sleep(_sleep_seconds(listed, now=clock(), limit=max_sleep_seconds))
    return outcomes


def _sleep_seconds(candidates: Sequence[DueCandidate], *, now: datetime, limit: float) -> float:
    upcoming = next_wake(candidates, now=now)
    if upcoming is None:
        return limit
    when, name = upcoming
    seconds = max(0.0, min(limit, (when - now).total_seconds()))
    log.debug("next run: %s at %s (sleeping %.0f s)", name, when.isoformat(), seconds)
    return seconds


def install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop` (the loop finishes the run in progress and exits); a second
    signal gets the previous behaviour back, so a second Ctrl-C interrupts at once. Returns a
    function restoring the previous handlers. Main thread only, as Python requires."""
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in signals}
    # A handler runs in the main thread between two bytecodes, possibly while that thread holds
    # `stop`'s own lock (inside `stop.wait()`): `stop.set()` there would wait for itself. The
    # handler only hands the signal to a thread of its own, through the one queue whose `put`
    # is safe to re-enter (SimpleQueue); that thread logs it and sets `stop`.
    received: queue.SimpleQueue[int | None] = queue.SimpleQueue()

    def relay() -> None:
        while (number := received.get()) is not None:
            log.warning(
                "received %s: stopping after the run in progress", signal.Signals(number).name
            )
            stop.set()

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    def handle(number: int, frame: FrameType | None) -> None:
        received.put(number)
        restore()

    def uninstall() -> None:
        restore()
        received.put(None)

    threading.Thread(target=relay, name="stop-signals", daemon=True).start()
    for number in signals:
        signal.signal(number, handle)
    return uninstall
