"""`pinads sources show`'s "next due" line, with frozen instants: the next run in the
schedule's zone and in UTC, "now" while a slot waits for the scheduler, manual sources."""

from __future__ import annotations

from datetime import UTC, datetime

from pinads.cli.schedule_cmd import due_text
from pinads.schedule import DueCandidate, parse_schedule


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


def candidate(schedule: str | None, **times: datetime) -> DueCandidate:
    return DueCandidate(
        name="shop", schedule=parse_schedule(schedule) if schedule else None, **times
    )


def test_the_next_run_is_given_in_the_schedule_zone_and_utc_across_the_spring_change() -> None:
    # Prague moves to summer time on 29 March 2026 at 02:00
    source = candidate(
        "daily 06:00 Europe/Prague",
        created_at=utc(2026, 3, 20),
        last_run_started=utc(2026, 3, 28, 5, 0, 3),
    )
    assert due_text(source, now=utc(2026, 3, 28, 12)) == (
        "next due: 2026-03-29 06:00 Europe/Prague, 2026-03-29 04:00 UTC "
        "(daily at 06:00 Europe/Prague)"
    )


def test_a_slot_not_served_yet_is_due_now() -> None:
    source = candidate(
        "monthly last 23:30 UTC",
        created_at=utc(2026, 1, 1),
        last_run_started=utc(2026, 1, 31, 23, 30, 2),
    )
    assert due_text(source, now=utc(2026, 3, 1, 8)) == (
        "next due: now (its 2026-02-28 23:30 UTC run has not started; `pinads run-due` or a "
        "running `pinads scheduler` starts it)"
    )


def test_a_new_source_waits_for_its_first_slot_and_manual_ones_never_run() -> None:
    source = candidate("hourly :15", created_at=utc(2026, 5, 1, 9, 20))
    assert due_text(source, now=utc(2026, 5, 1, 9, 21)) == (
        "next due: 2026-05-01 10:15 UTC (hourly at :15 UTC)"
    )
    for schedule in (None, "manual"):
        assert due_text(candidate(schedule), now=utc(2026, 5, 1)) == (
            "next due: never (manual: start it with `pinads run shop`)"
        )
