"""`Schedule`: when a source runs, as written in its config (YAML, JSON, the web form).

Accepted shapes (see `pinads.values.schedule_text` for the string forms):

```yaml
schedule: daily 06:00
schedule: daily 06:00 Europe/Prague
schedule: {frequency: weekly, weekday: mon, at: "07:30", timezone: Europe/Prague}
schedule: "cron: 0 6 * * *"
schedule: hourly
```

The model is normalised on input (defaults filled in for the chosen frequency, `at` written as
"HH:MM", or ":MM" for hourly), so what is stored and shown is exactly what runs.
"""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pinads.values.schedule_text import parse_shorthand

__all__ = ["DAYS_IN_WEEK", "Frequency", "Schedule", "Weekday", "check_cron"]

DAYS_IN_WEEK = 7
MAX_JITTER_MINUTES = 59
_CRON_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


class Frequency(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CRON = "cron"
    MANUAL = "manual"


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as `date.weekday()` counts."""
        return list(Weekday).index(self)

    @property
    def full_name(self) -> str:
        return _FULL_NAMES[self]


_FULL_NAMES = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}
_WEEKDAY_NAMES = {w.value: w for w in Weekday} | {w.full_name.lower(): w for w in Weekday}

_FIELDS = ("frequency", "at", "weekday", "day_of_month", "cron", "timezone", "jitter_minutes")
# Which optional fields each frequency uses; any other set field is a mistake worth reporting.
_USES: dict[Frequency, frozenset[str]] = {
    Frequency.HOURLY: frozenset({"at"}),
    Frequency.DAILY: frozenset({"at"}),
    Frequency.WEEKLY: frozenset({"at", "weekday"}),
    Frequency.MONTHLY: frozenset({"at", "day_of_month"}),
    Frequency.CRON: frozenset({"cron"}),
    Frequency.MANUAL: frozenset(),
}
_DEFAULTS: dict[str, Any] = {"at": "00:00", "weekday": "mon", "day_of_month": 1}


class Schedule(BaseModel):
    """When a source runs: hourly, daily, weekly, monthly, a cron expression, or manually."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    frequency: Frequency = Field(
        description="hourly, daily, weekly, monthly, cron, or manual (only when started by hand)."
    )
    at: str | None = Field(
        default=None,
        description='Local time "HH:MM" for daily, weekly and monthly runs; hourly runs use '
        'only the minute (":MM").',
    )
    weekday: Weekday | None = Field(
        default=None, description="Weekly runs: the day, mon, tue, wed, thu, fri, sat or sun."
    )
    day_of_month: int | None = Field(
        default=None,
        description="Monthly runs: the day, 1-31; a day past the month's end runs on its last "
        "day (31 = last day of every month).",
        json_schema_extra={"minimum": 1, "maximum": 31},
    )
    cron: str | None = Field(
        default=None,
        description='Cron runs: a 5-field expression "minute hour day month weekday", e.g. '
        '"0 6 * * 1-5", read in the schedule\'s timezone.',
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone the times are read in, e.g. Europe/Prague; daylight saving "
        "is followed.",
    )
    jitter_minutes: int = Field(
        default=0,
        description="Delay each run by a fixed 0..N minutes derived from the source name, so "
        "many sources do not start at the same second (0-59).",
        json_schema_extra={"minimum": 0, "maximum": MAX_JITTER_MINUTES},
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = parse_shorthand(value)
        if isinstance(value, Schedule):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(
                f'{value!r} is not a schedule: write a line such as "daily 06:00" or a '
                "mapping with frequency, at, weekday, day_of_month, cron, timezone"
            )
        return _normalise_mapping(value)

    @field_validator("at", mode="before")
    @classmethod
    def _check_at(cls, value: Any, info: ValidationInfo) -> Any:
        frequency = info.data.get("frequency")
        if value is None or frequency not in _USES or "at" not in _USES[frequency]:
            return value  # not applicable: reported by _check_applicable
        return _normalise_at(value, hourly=frequency is Frequency.HOURLY)

    @field_validator("weekday", mode="before")
    @classmethod
    def _check_weekday(cls, value: Any) -> Any:
        return None if value is None else _weekday(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        zone_name = value.strip()
        if zone_name.upper() in {"UTC", "GMT"}:
            zone_name = zone_name.upper()
        _zone(zone_name)
        return zone_name

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("day_of_month")
    @classmethod
    def _check_day(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 31:
            raise ValueError(
                f"{value} is out of range: use 1-31 (31 runs on the last day of every month)"
            )
        return value

    @field_validator("jitter_minutes")
    @classmethod
    def _check_jitter(cls, value: int) -> int:
        if not 0 <= value <= MAX_JITTER_MINUTES:
            raise ValueError(f"{value} is out of range: use 0-{MAX_JITTER_MINUTES} (0 = no jitter)")
        return value

    @model_validator(mode="after")
    def _check_applicable(self) -> Schedule:
        used = _USES[self.frequency]
        for name in ("at", "weekday", "day_of_month", "cron"):
            if getattr(self, name) is not None and name not in used:
                raise ValueError(_not_applicable(name, self.frequency))
        if self.frequency is Frequency.CRON and self.cron is None:
            raise ValueError('frequency cron needs a cron expression, e.g. cron: "0 6 * * *"')
        return self

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def local_time(self) -> time:
        """The "HH:MM" as a time (hourly: hour 0 and the minute)."""
        hours, _, minutes = (self.at or "00:00").rpartition(":")
        return time(int(hours or 0), int(minutes))

    def describe(self) -> str:
        """Human text: "daily at 06:00 Europe/Prague", "cron 0 6 * * 1-5 UTC", "manual"."""
        if self.frequency is Frequency.MANUAL:
            return "manual"
        when = {
            Frequency.HOURLY: f"hourly at {self.at}",
            Frequency.DAILY: f"daily at {self.at}",
            Frequency.WEEKLY: f"weekly on {self.weekday.full_name if self.weekday else ''} "
            f"at {self.at}",
            Frequency.MONTHLY: f"monthly on {_day_text(self.day_of_month or 1)} at {self.at}",
            Frequency.CRON: f"cron {self.cron}",
        }[self.frequency]
        jitter = f" (+ up to {self.jitter_minutes} min jitter)" if self.jitter_minutes else ""
        return f"{when} {self.timezone}{jitter}"


def check_cron(value: str) -> str:
    """The expression with single spaces, or ValueError saying what is wrong with it."""
    expression = " ".join(value.split())
    if expression.lower() in _CRON_ALIASES:
        return expression.lower()
    fields = expression.split(" ") if expression else []
    if len(fields) != 5:
        raise ValueError(
            f"{expression!r} has {len(fields)} fields, it needs 5: "
            'minute hour day-of-month month day-of-week, e.g. "0 6 * * *"'
        )
    if not croniter.is_valid(expression):
        raise ValueError(
            f"{expression!r} is not a valid cron expression: each field takes numbers, ranges "
            '(1-5), lists (1,15), steps (*/15) or *, e.g. "30 6 * * 1-5"'
        )
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except ValueError as exc:  # croniter's CroniterBadDateError: no date ever matches
        raise ValueError(f"{expression!r} never matches a date: check the day and month") from exc
    return expression


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(_zone_message(name)) from exc


def _zone_message(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(available_timezones()), n=3, cutoff=0.6)
    if close:
        return f"{name!r} is not an IANA time zone name: did you mean {', '.join(close)}?"
    return (
        f"{name!r} is not an IANA time zone name: use a name such as Europe/Prague, "
        "America/New_York or UTC"
    )


def _normalise_mapping(value: Mapping[str, Any]) -> dict[str, Any]:
    data = {str(key): item for key, item in value.items()}
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown schedule setting {', '.join(unknown)}: settings are {', '.join(_FIELDS)}"
        )
    if data.get("frequency") is None:
        if data.get("cron") is None:
            raise ValueError(
                "frequency is required: hourly, daily, weekly, monthly, cron or manual"
            )
        data["frequency"] = Frequency.CRON
    frequency = _frequency(data["frequency"])
    data["frequency"] = frequency
    for name in _USES[frequency] & _DEFAULTS.keys():
        if data.get(name) is None:
            data[name] = _DEFAULTS[name]
    return data


def _frequency(value: Any) -> Frequency:
    text = str(value.value if isinstance(value, enum.Enum) else value).strip().lower()
    try:
        return Frequency(text)
    except ValueError:
        raise ValueError(
            f"frequency {value!r} is not known: use hourly, daily, weekly, monthly, cron or manual"
        ) from None


def _weekday(value: Any) -> Weekday:
    text = str(value.value if isinstance(value, enum.Enum) else value).strip().lower()
    weekday = _WEEKDAY_NAMES.get(text)
    if weekday is None:
        raise ValueError(f"{value!r} is not a day: use mon, tue, wed, thu, fri, sat or sun")
    return weekday


def _normalise_at(value: Any, *, hourly: bool) -> str:
    """ "HH:MM" (or ":MM" for hourly) from what YAML hands over.

    YAML 1.1 reads an unquoted 10:30 as the base-60 integer 630 (06:00 stays a string because
    of the leading zero), so integers of 60 and more are minutes since midnight.
    """
    if isinstance(value, time):
        value = f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, bool):
        raise ValueError(_at_message(value, hourly=hourly))
    if isinstance(value, int):
        return _at_from_int(value, hourly=hourly)
    text = str(value).strip()
    hours_text, colon, minutes_text = text.rpartition(":")
    if not colon and hourly and text.isdigit():
        hours_text, minutes_text = "", text
    elif not colon or not minutes_text.isdigit() or len(minutes_text) != 2:
        raise ValueError(_at_message(value, hourly=hourly))
    if hours_text and not (hours_text.isdigit() and len(hours_text) <= 2):
        raise ValueError(_at_message(value, hourly=hourly))
    hours, minutes = int(hours_text or 0), int(minutes_text)
    if minutes > 59 or hours > 23 or (not hours_text and not hourly):
        raise ValueError(_at_message(value, hourly=hourly))
    return f":{minutes:02d}" if hourly else f"{hours:02d}:{minutes:02d}"


def _at_from_int(value: int, *, hourly: bool) -> str:
    if hourly and 0 <= value <= 59:
        return f":{value:02d}"
    if not hourly and 60 <= value < 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    raise ValueError(_at_message(value, hourly=hourly))


def _at_message(value: Any, *, hourly: bool) -> str:
    if hourly:
        return f'{value!r} is not a minute: write the minute past each hour as ":MM", e.g. ":15"'
    return f'{value!r} is not a time of day: write "HH:MM" (24-hour, quoted), e.g. "06:00"'


def _not_applicable(name: str, frequency: Frequency) -> str:
    users = [f.value for f, fields in _USES.items() if name in fields]
    return (
        f"{name} does not apply to {frequency.value} schedules (only {', '.join(users)}): "
        f"remove it or change the frequency"
    )


def _day_text(day: int) -> str:
    if day == 31:
        return "day 31 (or the month's last day)"
    return f"day {day}"
