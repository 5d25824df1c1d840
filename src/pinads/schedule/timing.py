"""Pure next-run math: which instants a schedule fires at, in UTC.

Daily, weekly, monthly and cron schedules name a wall-clock time in the schedule's zone. Such a
local time maps to exactly one instant:
- a time that does not exist (skipped by a spring-forward change) runs at the first valid
  instant after it, i.e. the moment the clocks jump (02:30 on a New York spring-forward day
  runs at 03:00 EDT);
- a time that happens twice (a fall-back change) runs once, on its first occurrence.
Hourly schedules count real hours instead: they run at every instant whose local minute is the
schedule's minute, so an hour repeated by a fall-back change is still an hour with a run, and
the runs stay sixty minutes apart across both changes.

Jitter delays every slot of a source by the same offset, derived from the source's name, so it
is stable across processes and restarts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from pinads.values import Frequency, Schedule

__all__ = [
    "due_slot",
    "is_due",
    "iter_runs",
    "jitter_offset",
    "next_run_after",
    "previous_due",
    "resolve_local",
]

_HOUR = timedelta(hours=1)
# Wall-clock search starts this far from the reference, which covers the largest jitter (59 min)
# plus the largest daylight-saving shift in use (2 h, Antarctica/Troll).
_MARGIN = timedelta(hours=3)


def jitter_offset(schedule: Schedule, source_name: str) -> timedelta:
    """The source's fixed delay within [0, jitter_minutes): same name, same offset, always."""
    if not schedule.jitter_minutes:
        return timedelta(0)
    digest = hashlib.sha256(source_name.encode("utf-8")).digest()
    seconds = int.from_bytes(digest[:8], "big") % (schedule.jitter_minutes * 60)
    return timedelta(seconds=seconds)


def next_run_after(schedule: Schedule, after: datetime, *, source_name: str) -> datetime | None:
    """The first run strictly after `after` (aware), in UTC; None for manual schedules."""
    after = _utc(after, "after")
    if schedule.frequency is Frequency.MANUAL:
        return None
    offset = jitter_offset(schedule, source_name)
    for instant in _instants(schedule, after, reverse=False):
        if instant + offset > after:
            return instant + offset
    raise AssertionError("unreachable: every schedule has future runs")  # pragma: no cover


def previous_due(schedule: Schedule, now: datetime, *, source_name: str) -> datetime | None:
    """The most recent run time at or before `now` (aware), in UTC; None for manual."""
    now = _utc(now, "now")
    if schedule.frequency is Frequency.MANUAL:
        return None
    offset = jitter_offset(schedule, source_name)
    for instant in _instants(schedule, now, reverse=True):
        if instant + offset <= now:
            return instant + offset
    raise AssertionError("unreachable: every schedule has past runs")  # pragma: no cover


def due_slot(
    schedule: Schedule,
    *,
    last_run_started: datetime | None,
    now: datetime,
    source_created: datetime | None,
    source_name: str,
) -> datetime | None:
    """The slot a run now would serve, or None when nothing is due.

    Only the most recent slot counts: after a scheduler outage of three days, a daily source
    runs once (catching up), not three times. A slot is served by a run started at or after it;
    without a run, slots before the source existed do not count. With neither (creation time
    unknown, never run), the most recent slot is due, so a new source runs soon after it is
    first seen.
    """
    slot = previous_due(schedule, now, source_name=source_name)
    if slot is None:
        return None
    baseline = last_run_started if last_run_started is not None else source_created
    if baseline is not None and _utc(baseline, "baseline") >= slot:
        return None
    return slot


def is_due(
    schedule: Schedule,
    *,
    last_run_started: datetime | None,
    now: datetime,
    source_created: datetime | None,
    source_name: str,
) -> bool:
    """Whether the source should run now (see `due_slot`)."""
    return (
        due_slot(
            schedule,
            last_run_started=last_run_started,
            now=now,
            source_created=source_created,
            source_name=source_name,
        )
        is not None
    )


def iter_runs(schedule: Schedule, after: datetime, *, source_name: str) -> Iterator[datetime]:
    """Successive runs strictly after `after` (for "next runs" previews); empty for manual."""
    current: datetime | None = _utc(after, "after")
    while current is not None:
        current = next_run_after(schedule, current, source_name=source_name)
        if current is not None:
            yield current


def resolve_local(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive wall-clock time stands for (gap: the jump; overlap: first)."""
    first = local.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if _wall(instant, zone) == local:
        return instant  # exists; fold=0 is the first of two occurrences in an overlap
    return _gap_end(local, zone)


def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant clocks jump over a nonexistent `local`: the first instant showing a later
    wall time. zoneinfo has no transition list, so search between the two candidate offsets."""
    candidates = (
        local.replace(tzinfo=zone, fold=1).timestamp(),  # read with the offset after the jump
        local.replace(tzinfo=zone, fold=0).timestamp(),  # read with the offset before it
    )
    low, high = math.floor(min(candidates)), math.ceil(max(candidates))
    while high - low > 1:  # whole seconds: wall(low) < local <= wall(high)
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) < local:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _instants(schedule: Schedule, around: datetime, *, reverse: bool) -> Iterator[datetime]:
    """Run instants (before jitter) from a little before `around` onwards, or from a little
    after it backwards; non-decreasing in the direction of travel."""
    zone = schedule.zone
    if schedule.frequency is Frequency.HOURLY:
        yield from _hourly(schedule.local_time.minute, zone, around, reverse=reverse)
        return
    wall = _wall(around, zone)
    start = wall + _MARGIN if reverse else wall - _MARGIN
    for local in _wall_slots(schedule, start, reverse=reverse):
        yield resolve_local(local, zone)


def _wall_slots(schedule: Schedule, start: datetime, *, reverse: bool) -> Iterator[datetime]:
    """Naive local slot times at or after `start` (before it when `reverse`), in order."""
    if schedule.frequency is Frequency.CRON:
        assert schedule.cron is not None
        # croniter's start is exclusive; a minute of slack makes it inclusive.
        slack = timedelta(minutes=1)
        cursor = croniter(schedule.cron, start + slack if reverse else start - slack)
        while True:
            yield cursor.get_prev(datetime) if reverse else cursor.get_next(datetime)
    at = schedule.local_time
    day = start.date()
    step = timedelta(days=-1 if reverse else 1)
    while True:
        slot = datetime.combine(day, at)
        beyond = slot > start if reverse else slot < start
        if _fires_on(schedule, day) and not beyond:
            yield slot
        day += step


def _fires_on(schedule: Schedule, day: date) -> bool:
    if schedule.frequency is Frequency.WEEKLY:
        assert schedule.weekday is not None
        return day.weekday() == schedule.weekday.number
    if schedule.frequency is Frequency.MONTHLY:
        wanted = schedule.day_of_month or 1
        return day.day == min(wanted, _days_in_month(day))
    return True


def _days_in_month(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day


def _hourly(minute: int, zone: ZoneInfo, around: datetime, *, reverse: bool) -> Iterator[datetime]:
    step = -_HOUR if reverse else _HOUR
    base = around.replace(minute=0, second=0, microsecond=0) - 2 * step
    while True:
        yield from sorted(_hour_candidates(base, minute, zone), reverse=reverse)
        base += step


def _hour_candidates(base: datetime, minute: int, zone: ZoneInfo) -> set[datetime]:
    """Instants within the UTC hour from `base` whose local minute is `minute`. The offset can
    change once inside the hour, so both offsets are tried and each candidate checked."""
    found: set[datetime] = set()
    for probe in (base, base + timedelta(minutes=59)):
        offset = probe.astimezone(zone).utcoffset() or timedelta(0)
        shift = (minute - int(offset.total_seconds()) // 60) % 60
        candidate = base + timedelta(minutes=shift)
        if candidate.astimezone(zone).minute == minute:
            found.add(candidate)
    return found
