"""Schedules: parsing a source's `Schedule` (the model is in pinads.values), pure next-run
math, and the run-due loop behind `pinads run-due` and `pinads scheduler`."""

from pinads.schedule.loop import (
    MAX_SLEEP_SECONDS,
    DueCandidate,
    OutcomeStatus,
    Paused,
    RunOutcome,
    find_due,
    install_stop_signals,
    next_wake,
    run_due_once,
    serve,
    utc_now,
)
from pinads.schedule.parse import parse_schedule
from pinads.schedule.timing import (
    due_slot,
    is_due,
    iter_runs,
    jitter_offset,
    next_run_after,
    previous_due,
    resolve_local,
)

__all__ = [
    "MAX_SLEEP_SECONDS",
    "DueCandidate",
    "OutcomeStatus",
    "Paused",
    "RunOutcome",
    "due_slot",
    "find_due",
    "install_stop_signals",
    "is_due",
    "iter_runs",
    "jitter_offset",
    "next_run_after",
    "next_wake",
    "parse_schedule",
    "previous_due",
    "resolve_local",
    "run_due_once",
    "serve",
    "utc_now",
]
