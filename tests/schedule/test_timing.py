"""Next-run math with frozen instants: DST gaps and overlaps, month ends, leap days, year ends,
cron in a zone, jitter, and catching a missed run up once."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pinads.schedule import (
    due_slot,
    is_due,
    iter_runs,
    jitter_offset,
    next_run_after,
    parse_schedule,
    previous_due,
    resolve_local,
)

NAME = "daily_spend"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


def runs(schedule: Any, after: datetime, count: int, name: str = NAME) -> list[datetime]:
    return list(islice(iter_runs(parse_schedule(schedule), after, source_name=name), count))


def nxt(schedule: Any, after: datetime, name: str = NAME) -> datetime | None:
    return next_run_after(parse_schedule(schedule), after, source_name=name)


def prev(schedule: Any, now: datetime, name: str = NAME) -> datetime | None:
    return previous_due(parse_schedule(schedule), now, source_name=name)


# -- daylight saving: Europe/Prague (2024: +01 -> +02 on 31 Mar 02:00, back on 27 Oct 03:00) --


def test_prague_spring_forward_gap_runs_at_the_jump() -> None:
    assert runs("daily 02:30 Europe/Prague", utc(2024, 3, 29, 12), 3) == [
        utc(2024, 3, 30, 1, 30),  # 02:30 CET
        utc(2024, 3, 31, 1, 0),  # 02:30 does not exist: 03:00 CEST, the first valid instant
        utc(2024, 4, 1, 0, 30),  # 02:30 CEST
    ]


def test_prague_fall_back_overlap_runs_once_on_the_first_occurrence() -> None:
    assert runs("daily 02:30 Europe/Prague", utc(2024, 10, 26, 12), 3) == [
        utc(2024, 10, 27, 0, 30),  # 02:30 CEST; 02:30 CET (01:30 UTC) is skipped
        utc(2024, 10, 28, 1, 30),  # 02:30 CET
        utc(2024, 10, 29, 1, 30),
    ]
    # inside the repeated hour (second 02:10), the slot already served is the first 02:30
    assert prev("daily 02:30 Europe/Prague", utc(2024, 10, 27, 1, 10)) == utc(2024, 10, 27, 0, 30)
    assert nxt("daily 02:30 Europe/Prague", utc(2024, 10, 27, 0, 30)) == utc(2024, 10, 28, 1, 30)


def test_prague_weekly_across_year_end() -> None:
    assert runs("weekly mon 07:30 Europe/Prague", utc(2024, 12, 20), 3) == [
        utc(2024, 12, 23, 6, 30),
        utc(2024, 12, 30, 6, 30),
        utc(2025, 1, 6, 6, 30),
    ]
    # 31 Dec 2025 is a Wednesday: the last run of the year and the first of the next
    assert runs("weekly wed 23:59 Europe/Prague", utc(2025, 12, 25), 2) == [
        utc(2025, 12, 31, 22, 59),
        utc(2026, 1, 7, 22, 59),
    ]


# -- daylight saving: America/New_York (2024: -05 -> -04 on 10 Mar 02:00, back 3 Nov 02:00) --


@pytest.mark.parametrize("at", ["02:00", "02:30", "02:59", "03:00"])
def test_new_york_spring_forward_times_in_the_gap_run_at_three(at: str) -> None:
    assert nxt(f"daily {at} America/New_York", utc(2024, 3, 9, 12)) == utc(2024, 3, 10, 7, 0)


def test_new_york_fall_back_overlap_runs_once() -> None:
    assert runs("daily 01:30 America/New_York", utc(2024, 11, 2, 12), 3) == [
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT; 01:30 EST (06:30 UTC) does not run
        utc(2024, 11, 4, 6, 30),
        utc(2024, 11, 5, 6, 30),
    ]


def test_cron_in_new_york_keeps_wall_time_across_both_changes() -> None:
    spring = runs("cron: */30 * * * * America/New_York", utc(2024, 3, 10, 5, 45), 4)
    # 01:00, 01:30 EST, then 02:00 and 02:30 (nonexistent) and 03:00 EDT all mean 07:00 UTC
    assert spring == [utc(2024, 3, 10, 6), utc(2024, 3, 10, 6, 30), utc(2024, 3, 10, 7),
                      utc(2024, 3, 10, 7, 30)]  # fmt: skip
    autumn = runs("cron: */30 * * * * America/New_York", utc(2024, 11, 3, 4, 45), 4)
    # 01:00 and 01:30 run once (EDT); the repeated hour does not run again
    assert autumn == [utc(2024, 11, 3, 5), utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 7),
                      utc(2024, 11, 3, 7, 30)]  # fmt: skip


def test_hourly_counts_real_hours_across_both_changes() -> None:
    assert runs("hourly :30 America/New_York", utc(2024, 11, 3, 4, 45), 3) == [
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT
        utc(2024, 11, 3, 6, 30),  # 01:30 EST: a real hour later, so it runs
        utc(2024, 11, 3, 7, 30),
    ]
    assert runs("hourly :30 America/New_York", utc(2024, 3, 10, 5, 45), 3) == [
        utc(2024, 3, 10, 6, 30),  # 01:30 EST
        utc(2024, 3, 10, 7, 30),  # 03:30 EDT
        utc(2024, 3, 10, 8, 30),
    ]


def test_hourly_minute_follows_half_hour_offsets() -> None:
    # India is +05:30: local minute 15 is UTC minute 45
    assert runs("hourly :15 Asia/Kolkata", utc(2024, 6, 1, 0, 0), 2) == [
        utc(2024, 6, 1, 0, 45),
        utc(2024, 6, 1, 1, 45),
    ]


def test_cron_weekdays_in_tokyo() -> None:
    # Friday 2024-06-07 after 06:00 JST: next is Monday 06:00 JST = Sunday 21:00 UTC
    assert nxt("cron: 0 6 * * 1-5 Asia/Tokyo", utc(2024, 6, 7, 0)) == utc(2024, 6, 9, 21)
    assert prev("cron: 0 6 * * 1-5 Asia/Tokyo", utc(2024, 6, 9, 20)) == utc(2024, 6, 6, 21)


def test_a_whole_skipped_day_runs_at_the_jump() -> None:
    # Samoa skipped 30 Dec 2011 (23:59:59 on the 29th was followed by 00:00 on the 31st)
    apia = ZoneInfo("Pacific/Apia")
    assert resolve_local(datetime(2011, 12, 30, 12), apia) == utc(2011, 12, 30, 10)
    assert runs("daily 12:00 Pacific/Apia", utc(2011, 12, 29, 0), 3) == [
        utc(2011, 12, 29, 22),  # 29 Dec 12:00 at -10:00
        utc(2011, 12, 30, 10),  # 30 Dec never happened: midnight of the 31st
        utc(2011, 12, 30, 22),  # 31 Dec 12:00 at +14:00
    ]


# -- month ends and leap days ---------------------------------------------------------------


def test_day_31_runs_on_every_months_last_day() -> None:
    assert runs("monthly 31 06:00", utc(2024, 1, 1), 5) == [
        utc(2024, 1, 31, 6),
        utc(2024, 2, 29, 6),  # leap year
        utc(2024, 3, 31, 6),
        utc(2024, 4, 30, 6),
        utc(2024, 5, 31, 6),
    ]
    assert nxt("monthly 31 06:00", utc(2023, 2, 1)) == utc(2023, 2, 28, 6)


@pytest.mark.parametrize(
    ("day", "year", "expected"),
    [
        (29, 2023, utc(2023, 2, 28, 6)),
        (29, 2024, utc(2024, 2, 29, 6)),
        (30, 2024, utc(2024, 2, 29, 6)),
    ],
)
def test_days_past_february_end(day: int, year: int, expected: datetime) -> None:
    assert nxt(f"monthly {day} 06:00", utc(year, 2, 1)) == expected


def test_leap_day_is_an_ordinary_day_for_daily_and_cron_only_matches_it_in_leap_years() -> None:
    assert runs("daily 23:30", utc(2024, 2, 28, 23, 30), 2) == [
        utc(2024, 2, 29, 23, 30),
        utc(2024, 3, 1, 23, 30),
    ]
    assert nxt("cron: 0 0 29 2 *", utc(2025, 1, 1)) == utc(2028, 2, 29)
    assert prev("cron: 0 0 29 2 *", utc(2027, 12, 31)) == utc(2024, 2, 29)


def test_monthly_at_month_end_in_a_zone_crosses_into_the_next_utc_month() -> None:
    # 31 Jan 23:30 in Prague is 22:30 UTC; 30 Apr 23:30 CEST is 21:30 UTC
    assert runs("monthly last 23:30 Europe/Prague", utc(2024, 1, 15), 4) == [
        utc(2024, 1, 31, 22, 30),
        utc(2024, 2, 29, 22, 30),
        utc(2024, 3, 31, 21, 30),
        utc(2024, 4, 30, 21, 30),
    ]


# -- invariants over many instants ---------------------------------------------------------

SCHEDULES = [
    "hourly :07 America/New_York",
    "daily 02:30 Europe/Prague",
    "daily 01:30 America/New_York",
    "weekly sun 02:15 America/New_York",
    "monthly 31 02:30 Europe/Prague",
    "cron: 15,45 1-3 * * * America/New_York",
    {"frequency": "daily", "at": "02:30", "timezone": "Europe/Prague", "jitter_minutes": 59},
]


def _instants(seed: int, count: int) -> Iterator[datetime]:
    rng = random.Random(seed)
    start = utc(2024, 1, 1)
    for _ in range(count):
        yield start + timedelta(seconds=rng.randrange(0, 366 * 86400))


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_next_and_previous_agree_everywhere(schedule: Any) -> None:
    for moment in _instants(seed=11, count=150):
        upcoming = nxt(schedule, moment)
        assert upcoming is not None and upcoming > moment
        assert prev(schedule, upcoming) == upcoming  # the run found is a slot
        last = prev(schedule, moment)
        assert last is not None and last <= moment
        assert nxt(schedule, last) == upcoming  # nothing between the two slots
        assert prev(schedule, upcoming - timedelta(seconds=1)) == last


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="after must be a timezone-aware datetime"):
        nxt("daily 06:00", datetime(2024, 1, 1))


def test_manual_never_runs() -> None:
    manual = parse_schedule("manual")
    assert next_run_after(manual, utc(2024, 1, 1), source_name=NAME) is None
    assert previous_due(manual, utc(2024, 1, 1), source_name=NAME) is None
    assert not is_due(
        manual, last_run_started=None, now=utc(2024, 1, 1), source_created=None, source_name=NAME
    )


# -- jitter ------------------------------------------------------------------------------------


def test_jitter_is_fixed_per_source_name_and_spread_across_names() -> None:
    schedule = parse_schedule({"frequency": "daily", "at": "06:00", "jitter_minutes": 30})
    # sha256-derived, not Python's per-process hash(): the same in every process, forever
    assert jitter_offset(schedule, "daily_spend") == timedelta(minutes=10, seconds=58)
    offsets = {jitter_offset(schedule, f"source_{i}") for i in range(200)}
    assert len(offsets) > 150
    assert all(timedelta(0) <= o < timedelta(minutes=30) for o in offsets)
    first = runs(schedule.model_dump(), utc(2024, 1, 1), 3, name="daily_spend")
    assert first == [utc(2024, 1, d, 6, 10, 58) for d in (1, 2, 3)]
    assert runs(schedule.model_dump(), utc(2024, 1, 1), 3, name="daily_spend") == first
    assert jitter_offset(parse_schedule("daily 06:00"), "daily_spend") == timedelta(0)


def test_jitter_can_carry_a_slot_past_the_reference() -> None:
    schedule = {"frequency": "daily", "at": "06:00", "jitter_minutes": 30}
    # 06:05 is after the 06:00 slot but before it fires at 06:10:58
    assert nxt(schedule, utc(2024, 1, 1, 6, 5)) == utc(2024, 1, 1, 6, 10, 58)
    assert prev(schedule, utc(2024, 1, 1, 6, 5)) == utc(2023, 12, 31, 6, 10, 58)


# -- catching up ---------------------------------------------------------------------------


def test_a_missed_run_is_caught_up_once_not_once_per_missed_slot() -> None:
    schedule = parse_schedule("daily 06:00")
    last_started: datetime | None = utc(2024, 5, 1, 6, 0, 4)
    started: list[datetime] = []
    # the scheduler was down from 1 May 07:00 to 4 May 10:00, then ticks every 5 minutes
    now = utc(2024, 5, 4, 10)
    while now < utc(2024, 5, 6, 12):
        if is_due(
            schedule,
            last_run_started=last_started,
            now=now,
            source_created=utc(2024, 4, 1),
            source_name=NAME,
        ):
            started.append(now)
            last_started = now
        now += timedelta(minutes=5)
    assert started == [utc(2024, 5, 4, 10), utc(2024, 5, 5, 6), utc(2024, 5, 6, 6)]


def test_due_slot_names_the_slot_being_served() -> None:
    schedule = parse_schedule("hourly :00")
    assert due_slot(
        schedule,
        last_run_started=utc(2024, 5, 1, 3, 0, 1),
        now=utc(2024, 5, 1, 9, 30),
        source_created=None,
        source_name=NAME,
    ) == utc(2024, 5, 1, 9)


def test_new_source_waits_for_its_first_slot_after_creation() -> None:
    schedule = parse_schedule("daily 06:00")

    def due(now: datetime, created: datetime | None) -> bool:
        return is_due(
            schedule, last_run_started=None, now=now, source_created=created, source_name=NAME
        )

    assert not due(utc(2024, 5, 1, 12), created=utc(2024, 5, 1, 10))
    assert due(utc(2024, 5, 2, 6), created=utc(2024, 5, 1, 10))
    assert due(utc(2024, 5, 1, 12), created=utc(2024, 5, 1, 5))
    # creation time unknown and never run: the latest slot is due
    assert due(utc(2024, 5, 1, 12), created=None)


# -- weekly and monthly across daylight saving, with jitter ----------------------------------


def test_weekly_on_the_spring_forward_sunday_runs_at_the_jump_then_keeps_wall_time() -> None:
    # New York 2024: 10 March 02:00 EST -> 03:00 EDT; 3 November 02:00 EDT -> 01:00 EST
    assert runs("weekly sun 02:30 America/New_York", utc(2024, 3, 1), 3) == [
        utc(2024, 3, 3, 7, 30),  # 02:30 EST
        utc(2024, 3, 10, 7, 0),  # 02:30 does not exist: 03:00 EDT
        utc(2024, 3, 17, 6, 30),  # 02:30 EDT
    ]
    assert runs("weekly sun 01:30 America/New_York", utc(2024, 10, 30), 2) == [
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT, the first of the two 01:30s
        utc(2024, 11, 10, 6, 30),  # 01:30 EST
    ]


def test_monthly_last_day_across_a_dst_change_and_february() -> None:
    assert runs("monthly last 06:00 America/New_York", utc(2024, 1, 15), 3) == [
        utc(2024, 1, 31, 11),  # EST
        utc(2024, 2, 29, 11),  # leap February, EST
        utc(2024, 3, 31, 10),  # EDT since 10 March
    ]


def test_jitter_shifts_every_slot_by_the_same_real_time_across_dst() -> None:
    plain = runs("daily 06:00 Europe/Prague", utc(2024, 3, 29), 3)
    jittered = runs(
        {"frequency": "daily", "at": "06:00", "timezone": "Europe/Prague", "jitter_minutes": 30},
        utc(2024, 3, 29),
        3,
    )
    offsets = {b - a for a, b in zip(plain, jittered, strict=True)}
    assert len(offsets) == 1 and timedelta(0) <= offsets.pop() < timedelta(minutes=30)
    assert [p.hour for p in plain] == [5, 5, 4]  # 06:00 CET, CET, then CEST after the change
