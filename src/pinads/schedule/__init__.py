"""Schedules: the `Schedule` model in a source's config, pure next-run math, and the run-due
loop behind `pinads run-due` and `pinads scheduler`."""

from pinads.schedule.model import Frequency, Schedule, Weekday, parse_schedule
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
    "Frequency",
    "Schedule",
    "Weekday",
    "due_slot",
    "is_due",
    "iter_runs",
    "jitter_offset",
    "next_run_after",
    "parse_schedule",
    "previous_due",
    "resolve_local",
]
