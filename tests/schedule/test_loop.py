"""The run-due loop with an in-memory store, a recording `run` and frozen time (no sleeping)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from pinads.errors import ExtractError, StateError
from pinads.schedule import (
    DueCandidate,
    OutcomeStatus,
    RunOutcome,
    find_due,
    install_stop_signals,
    next_wake,
    parse_schedule,
    run_due_once,
    serve,
)

DAILY_6 = parse_schedule("daily 06:00")
HOURLY_30 = parse_schedule("hourly :30")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


@dataclass
class FakeWorld:
    """Sources and their latest scheduled start, like the control DB, plus a settable clock."""

    now: datetime
    schedules: dict[str, str | None]
    last_started: dict[str, datetime] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: utc(2024, 1, 1))
    started: list[tuple[str, datetime]] = field(default_factory=list)
    failing: dict[str, Exception] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)

    def candidates(self) -> list[DueCandidate]:
        return [
            DueCandidate(
                name=name,
                schedule=parse_schedule(text) if text else None,
                last_run_started=self.last_started.get(name),
                created_at=self.created,
            )
            for name, text in self.schedules.items()
        ]

    def run(self, name: str) -> str:
        error = self.failing.get(name)
        if error is not None:
            raise error  # before the run is recorded, like a destination check failing
        self.started.append((name, self.now))
        self.last_started[name] = self.now
        self.now += timedelta(minutes=2)  # a run takes two minutes
        return f"result of {name}"

    def clock(self) -> datetime:
        return self.now


def test_only_due_sources_run_and_each_outcome_names_its_slot() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 2, 7),
        schedules={"due": "daily 06:00", "done": "daily 06:00", "manual": "manual", "none": None},
        last_started={"due": utc(2024, 5, 1, 6), "done": utc(2024, 5, 2, 6, 0, 3)},
    )
    outcomes = run_due_once(world.candidates(), now=world.now, run=world.run)
    assert outcomes == [
        RunOutcome("due", utc(2024, 5, 2, 6), OutcomeStatus.OK, result="result of due")
    ]
    assert world.started == [("due", utc(2024, 5, 2, 7))]
    # nothing more is due once the run is recorded
    assert run_due_once(world.candidates(), now=world.now, run=world.run) == []


def test_a_failing_source_does_not_stop_the_others_and_a_held_lock_is_skipped() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 2, 7),
        schedules={"a": "daily 06:00", "b": "daily 06:00", "c": "daily 06:00", "d": "hourly"},
        failing={
            "a": ExtractError("report FAILED for account 1: rerun the source"),
            "b": StateError("source 'b' is already running (another run holds its lock)"),
            "c": RuntimeError("boom access_token=pina_SECRETSECRETSECRET"),
        },
    )
    outcomes = run_due_once(world.candidates(), now=world.now, run=world.run)
    assert [(o.source, o.status, o.message) for o in outcomes] == [
        ("a", OutcomeStatus.FAILED, "report FAILED for account 1: rerun the source"),
        ("b", OutcomeStatus.SKIPPED, "source 'b' is already running (another run holds its lock)"),
        ("c", OutcomeStatus.FAILED, "unexpected RuntimeError: boom access_token=***"),
        ("d", OutcomeStatus.OK, ""),
    ]
    assert world.started == [("d", utc(2024, 5, 2, 7))]


def test_attempted_sources_are_not_retried_for_the_same_slot() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 2, 7),
        schedules={"a": "daily 06:00"},
        failing={"a": ExtractError("no")},
    )
    attempted: dict[str, datetime] = {}
    first = run_due_once(world.candidates(), now=world.now, run=world.run, attempted=attempted)
    assert [o.status for o in first] == [OutcomeStatus.FAILED]
    assert attempted == {"a": utc(2024, 5, 2, 7)}
    later = utc(2024, 5, 2, 12)
    assert run_due_once(world.candidates(), now=later, run=world.run, attempted=attempted) == []
    assert [c.name for c, _ in find_due(world.candidates(), now=utc(2024, 5, 3, 6))] == ["a"]


def test_should_stop_leaves_unstarted_sources_for_later() -> None:
    world = FakeWorld(now=utc(2024, 5, 2, 7), schedules={"a": "daily 06:00", "b": "daily 06:00"})
    outcomes = run_due_once(
        world.candidates(), now=world.now, run=world.run, should_stop=lambda: bool(world.started)
    )
    assert [o.source for o in outcomes] == ["a"]
    assert [c.name for c, _ in find_due(world.candidates(), now=world.now)] == ["b"]


def test_a_thread_pool_runs_due_sources_side_by_side_once_each() -> None:
    names = ["a", "b", "c"]
    barrier = threading.Barrier(len(names), timeout=10)
    seen: list[str] = []
    lock = threading.Lock()

    def run(name: str) -> None:
        barrier.wait()  # only passes when all three runs are in progress together
        with lock:
            seen.append(name)

    candidates = [DueCandidate(name, DAILY_6) for name in names]
    outcomes = run_due_once(candidates, now=utc(2024, 5, 2, 7), run=run, max_workers=3)
    assert [(o.source, o.status) for o in outcomes] == [(n, OutcomeStatus.OK) for n in names]
    assert sorted(seen) == names


def test_next_wake_is_the_earliest_upcoming_run() -> None:
    candidates = [
        DueCandidate("daily", DAILY_6),
        DueCandidate("hourly", HOURLY_30),
        DueCandidate("manual", parse_schedule("manual")),
        DueCandidate("unscheduled", None),
    ]
    assert next_wake(candidates, now=utc(2024, 5, 2, 5, 0)) == (utc(2024, 5, 2, 5, 30), "hourly")
    assert next_wake(candidates, now=utc(2024, 5, 2, 5, 45)) == (utc(2024, 5, 2, 6), "daily")
    assert next_wake(candidates[2:], now=utc(2024, 5, 2, 5)) is None


def _serve(world: FakeWorld, *, until: datetime, **options: object) -> list[RunOutcome]:
    stop = threading.Event()

    def wait(seconds: float) -> bool:
        world.sleeps.append(seconds)
        world.now += timedelta(seconds=seconds)
        if world.now >= until:
            stop.set()
        return stop.is_set()

    return serve(
        world.candidates,
        run=world.run,
        stop=stop,
        clock=world.clock,
        wait=wait,
        **options,  # type: ignore[arg-type]
    )


def test_serve_runs_each_slot_once_and_never_sleeps_past_the_bound() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 2, 5, 59, 30),
        schedules={"daily": "daily 06:00", "hourly": "hourly :30"},
        last_started={"daily": utc(2024, 5, 1, 6), "hourly": utc(2024, 5, 2, 5, 30)},
    )
    outcomes = _serve(world, until=utc(2024, 5, 3, 6, 1))
    assert world.started == [
        ("daily", utc(2024, 5, 2, 6)),
        ("hourly", utc(2024, 5, 2, 6, 30)),
        *[("hourly", utc(2024, 5, 2, h, 30)) for h in range(7, 24)],
        *[("hourly", utc(2024, 5, 3, h, 30)) for h in range(6)],
        ("daily", utc(2024, 5, 3, 6)),
    ]
    assert all(o.status is OutcomeStatus.OK for o in outcomes)
    assert len(outcomes) == len(world.started)
    assert max(world.sleeps) == 60.0
    assert min(world.sleeps) >= 0.0
    # it wakes exactly at each slot instead of polling past it
    assert world.sleeps[0] == 30.0


def test_serve_catches_up_once_after_an_outage_and_picks_up_new_sources() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 5, 10),
        schedules={"daily": "daily 06:00"},
        last_started={"daily": utc(2024, 5, 1, 6)},  # down for three days and a bit
    )
    stop = threading.Event()
    ticks = 0

    def wait(seconds: float) -> bool:
        nonlocal ticks
        ticks += 1
        world.now += timedelta(seconds=seconds)
        if ticks == 3:
            world.schedules["weekly"] = "weekly sun 09:00"  # added while the scheduler runs
        if world.now >= utc(2024, 5, 5, 12):
            stop.set()
        return stop.is_set()

    serve(world.candidates, run=world.run, stop=stop, clock=world.clock, wait=wait)
    # 5 May 2024 is a Sunday: the new weekly source catches up its latest slot (09:00) once
    assert world.started == [("daily", utc(2024, 5, 5, 10)), ("weekly", utc(2024, 5, 5, 10, 5))]


def test_serve_does_not_retry_a_source_that_fails_before_recording_its_run() -> None:
    world = FakeWorld(
        now=utc(2024, 5, 2, 6, 30),
        schedules={"broken": "daily 06:00"},
        failing={"broken": ExtractError("destination unreachable")},
        last_started={"broken": utc(2024, 5, 1, 6)},
    )
    outcomes = _serve(world, until=utc(2024, 5, 3, 7))
    assert [(o.source, o.slot, o.status) for o in outcomes] == [
        ("broken", utc(2024, 5, 2, 6), OutcomeStatus.FAILED),
        ("broken", utc(2024, 5, 3, 6), OutcomeStatus.FAILED),
    ]


def test_stop_during_a_run_finishes_it_and_starts_nothing_else() -> None:
    world = FakeWorld(now=utc(2024, 5, 2, 7), schedules={"a": "daily 06:00", "b": "daily 06:00"})
    stop = threading.Event()

    def run(name: str) -> str:
        stop.set()  # a signal arrives while the first run is in progress
        return world.run(name)

    waits: list[float] = []
    outcomes = serve(world.candidates, run=run, stop=stop, clock=world.clock, wait=waits.append)
    assert [(o.source, o.status) for o in outcomes] == [("a", OutcomeStatus.OK)]
    assert waits == []


def test_sigterm_sets_stop_and_gives_the_previous_handlers_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    restore = install_stop_signals(stop)
    try:
        assert signal.getsignal(signal.SIGTERM) not in before
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(timeout=10)
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    finally:
        restore()


# The signal arrives while the main thread holds `stop`'s own lock, as it does for an instant
# on every `stop.wait()` of the scheduler's sleep; then SIGTERM must still stop it.
_SIGNAL_INSIDE_WAIT = """
import os, signal, threading
from pinads.schedule import install_stop_signals
stop = threading.Event()
install_stop_signals(stop)
with stop._cond:
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):  # bytecodes for the handler to run at
        pass
print("stopped" if stop.wait(10) else "not stopped")
"""


def test_a_signal_during_the_stop_events_own_lock_still_stops() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_INSIDE_WAIT],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        find_due([DueCandidate("a", DAILY_6)], now=datetime(2024, 5, 2, 7))


def test_serve_keeps_going_when_the_sources_cannot_be_read_for_a_while() -> None:
    world = FakeWorld(now=utc(2024, 5, 2, 5, 58), schedules={"a": "daily 06:00"})
    world.last_started["a"] = utc(2024, 5, 1, 6)
    failures = iter([True, True, False])

    def candidates() -> list[DueCandidate]:
        if next(failures, False):
            raise StateError("control DB unreachable: check PINADS_DATABASE_URL")
        return world.candidates()

    stop = threading.Event()

    def wait(seconds: float) -> bool:
        world.sleeps.append(seconds)
        world.now += timedelta(seconds=seconds)
        if world.now >= utc(2024, 5, 2, 6, 30):
            stop.set()
        return stop.is_set()

    outcomes = serve(candidates, run=world.run, stop=stop, clock=world.clock, wait=wait)
    assert world.sleeps[:2] == [60.0, 60.0]
    assert [(o.source, o.status) for o in outcomes] == [("a", OutcomeStatus.OK)]
    assert world.started == [("a", utc(2024, 5, 2, 6))]
