"""The Schedule model: YAML shorthands, normalisation, describe(), and exact error messages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from pinads.errors import ConfigError
from pinads.schedule import parse_schedule
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config
from pinads.values import Frequency, Schedule, Weekday


def _yaml(text: str) -> Schedule:
    return parse_schedule(yaml.safe_load(text)["schedule"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule: daily 06:00", {"frequency": "daily", "at": "06:00", "timezone": "UTC"}),
        ("schedule: daily at 06:00 Europe/Prague", {"at": "06:00", "timezone": "Europe/Prague"}),
        ("schedule: daily", {"frequency": "daily", "at": "00:00"}),
        ("schedule: hourly", {"frequency": "hourly", "at": ":00"}),
        ('schedule: "hourly :15"', {"frequency": "hourly", "at": ":15"}),
        ("schedule: hourly at 45 utc", {"at": ":45", "timezone": "UTC"}),
        (
            'schedule: {frequency: weekly, weekday: mon, at: "07:30", timezone: Europe/Prague}',
            {"frequency": "weekly", "weekday": "mon", "at": "07:30", "timezone": "Europe/Prague"},
        ),
        ("schedule: weekly on Friday at 18:00", {"weekday": "fri", "at": "18:00"}),
        ("schedule: weekly", {"weekday": "mon", "at": "00:00"}),
        ("schedule: monthly 1 06:00", {"frequency": "monthly", "day_of_month": 1}),
        ("schedule: monthly on the 15th at 08:00", None),  # "the" is not a word we read
        ("schedule: monthly on 15th at 08:00", {"day_of_month": 15, "at": "08:00"}),
        ("schedule: monthly last 23:00", {"day_of_month": 31, "at": "23:00"}),
        ('schedule: "cron: 0 6 * * *"', {"frequency": "cron", "cron": "0 6 * * *"}),
        (
            'schedule: "cron: 30 6 * * 1-5 America/New_York"',
            {"cron": "30 6 * * 1-5", "timezone": "America/New_York"},
        ),
        ('schedule: "*/15 * * * *"', {"frequency": "cron", "cron": "*/15 * * * *"}),
        ("schedule: '@daily'", {"frequency": "cron", "cron": "@daily"}),
        ("schedule: {cron: 0 6 * * *}", {"frequency": "cron", "cron": "0 6 * * *"}),
        ("schedule: manual", {"frequency": "manual", "at": None}),
        # YAML 1.1 reads unquoted 10:30 as the base-60 integer 630; it still means 10:30.
        ("schedule: {frequency: daily, at: 10:30}", {"at": "10:30"}),
        ("schedule: {frequency: daily, at: 7:05}", {"at": "07:05"}),
        ("schedule: {frequency: hourly, at: 20}", {"at": ":20"}),
        ("schedule: {frequency: DAILY, at: '6:00', timezone: utc}", {"at": "06:00"}),
    ],
)
def test_yaml_forms_parse_to_normalised_schedules(
    text: str, expected: dict[str, Any] | None
) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match="could not read 'the'"):
            _yaml(text)
        return
    schedule = _yaml(text)
    dumped = schedule.model_dump(mode="json")
    assert {key: dumped[key] for key in expected} == expected


def test_normalised_schedule_round_trips_through_its_json_document() -> None:
    schedule = parse_schedule("weekly sun 07:30 Europe/Prague")
    document = schedule.model_dump(mode="json")
    assert document == {
        "frequency": "weekly",
        "at": "07:30",
        "weekday": "sun",
        "day_of_month": None,
        "cron": None,
        "timezone": "Europe/Prague",
        "jitter_minutes": 0,
    }
    assert Schedule.model_validate(document) == schedule
    assert schedule.weekday is Weekday.SUN
    assert schedule.frequency is Frequency.WEEKLY


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("daily 06:00 Europe/Prague", "daily at 06:00 Europe/Prague"),
        ("hourly :05", "hourly at :05 UTC"),
        ("weekly wed 07:30 America/New_York", "weekly on Wednesday at 07:30 America/New_York"),
        ("monthly 15 08:00", "monthly on day 15 at 08:00 UTC"),
        ("monthly 31 06:00", "monthly on day 31 (or the month's last day) at 06:00 UTC"),
        ("cron: 0 6 * * 1-5 Asia/Tokyo", "cron 0 6 * * 1-5 Asia/Tokyo"),
        ("manual", "manual"),
        (
            {"frequency": "daily", "at": "06:00", "jitter_minutes": 10},
            "daily at 06:00 UTC (+ up to 10 min jitter)",
        ),
    ],
)
def test_describe(value: Any, text: str) -> None:
    assert parse_schedule(value).describe() == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"frequency": "daily", "at": "25:00"},
            "schedule.at: '25:00' is not a time of day: write \"HH:MM\" (24-hour, quoted), "
            'e.g. "06:00"',
        ),
        (
            {"frequency": "daily", "at": 6},
            'schedule.at: 6 is not a time of day: write "HH:MM" (24-hour, quoted), e.g. "06:00"',
        ),
        (
            "hourly :75",
            "schedule.at: ':75' is not a minute: write the minute past each hour as \":MM\", "
            'e.g. ":15"',
        ),
        (
            {"frequency": "daily", "timezone": "Europe/Prag"},
            "schedule.timezone: 'Europe/Prag' is not an IANA time zone name: did you mean "
            "Europe/Prague, Europe/Paris, Europe/Zagreb?",
        ),
        (
            {"frequency": "daily", "timezone": "Mars/Olympus"},
            "schedule.timezone: 'Mars/Olympus' is not an IANA time zone name: use a name such "
            "as Europe/Prague, America/New_York or UTC",
        ),
        (
            {"frequency": "daily", "timezone": "../etc/passwd"},
            "schedule.timezone: '../etc/passwd' is not an IANA time zone name: use a name such "
            "as Europe/Prague, America/New_York or UTC",
        ),
        (
            "cron: 0 6 * *",
            "schedule.cron: '0 6 * *' has 4 fields, it needs 5: minute hour day-of-month month "
            'day-of-week, e.g. "0 6 * * *"',
        ),
        (
            "cron: 0 6 * * * *",
            "schedule.cron: '0 6 * * * *' has 6 fields, it needs 5: minute hour day-of-month "
            'month day-of-week, e.g. "0 6 * * *"',
        ),
        (
            "cron: 61 6 * * *",
            "schedule.cron: '61 6 * * *' is not a valid cron expression: each field takes "
            'numbers, ranges (1-5), lists (1,15), steps (*/15) or *, e.g. "30 6 * * 1-5"',
        ),
        (
            "cron: 0 0 30 2 *",
            "schedule.cron: '0 0 30 2 *' never matches a date: check the day and month",
        ),
        (
            {"frequency": "monthly", "day_of_month": 32},
            "schedule.day_of_month: 32 is out of range: use 1-31 (31 runs on the last day of "
            "every month)",
        ),
        (
            {"frequency": "daily", "jitter_minutes": 60},
            "schedule.jitter_minutes: 60 is out of range: use 0-59 (0 = no jitter)",
        ),
        (
            {"frequency": "weekly", "weekday": "funday"},
            "schedule.weekday: 'funday' is not a day: use mon, tue, wed, thu, fri, sat or sun",
        ),
        (
            {"frequency": "daily", "weekday": "mon"},
            "schedule: weekday does not apply to daily schedules (only weekly): remove it or "
            "change the frequency",
        ),
        (
            {"frequency": "cron", "cron": "0 6 * * *", "at": "06:00"},
            "schedule: at does not apply to cron schedules (only hourly, daily, weekly, "
            "monthly): remove it or change the frequency",
        ),
        (
            {"frequency": "cron"},
            'schedule: frequency cron needs a cron expression, e.g. cron: "0 6 * * *"',
        ),
        (
            {"at": "06:00"},
            "schedule: frequency is required: hourly, daily, weekly, monthly, cron or manual",
        ),
        (
            {"frequency": "yearly"},
            "schedule: frequency 'yearly' is not known: use hourly, daily, weekly, monthly, "
            "cron or manual",
        ),
        (
            {"frequency": "daily", "time": "06:00"},
            "schedule: unknown schedule setting time: settings are frequency, at, weekday, "
            "day_of_month, cron, timezone, jitter_minutes",
        ),
        (
            "daily at noon",
            "schedule: could not read 'noon' in schedule 'daily at noon': write e.g. "
            '"daily 06:00", "weekly mon 07:30", "monthly 1 06:00", "hourly :15", '
            '"cron: 0 6 * * *" (each optionally followed by a time zone such as Europe/Prague)',
        ),
        (
            "",
            'schedule: schedule is empty: write e.g. "daily 06:00", "weekly mon 07:30", '
            '"monthly 1 06:00", "hourly :15", "cron: 0 6 * * *" (each optionally followed by '
            "a time zone such as Europe/Prague), or manual",
        ),
        (
            5,
            'schedule: 5 is not a schedule: write a line such as "daily 06:00" or a mapping '
            "with frequency, at, weekday, day_of_month, cron, timezone",
        ),
    ],
)
def test_invalid_input_messages_are_exact(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedule(value)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_several_field_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedule({"frequency": "daily", "at": "6pm", "jitter_minutes": 99})
    assert str(caught.value) == (
        "schedule.at: '6pm' is not a time of day: write \"HH:MM\" (24-hour, quoted), "
        'e.g. "06:00"; schedule.jitter_minutes: 99 is out of range: use 0-59 (0 = no jitter)'
    )


def test_source_config_carries_the_schedule_and_reports_its_problems_with_the_rest() -> None:
    document = {
        "name": "daily_spend",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "schedule": "daily 06:00 Europe/Prague",
    }
    config = SourceConfig.model_validate(document)
    assert config.schedule == parse_schedule("daily 06:00 Europe/Prague")
    assert SourceConfig.model_validate(config.to_document()) == config

    broken = {**document, "schedule": {"frequency": "weekly", "weekday": "someday"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, today=date(2026, 1, 15))
    assert str(caught.value) == (
        "source 'daily_spend' is not valid (1 problem): schedule.weekday: 'someday' is not a "
        "day: use mon, tue, wed, thu, fri, sat or sun"
    )


def test_schedule_is_frozen_and_every_field_is_described_for_the_web_form() -> None:
    schedule = parse_schedule("daily 06:00")
    with pytest.raises(ValueError, match="frozen"):
        schedule.at = "07:00"  # type: ignore[misc]
    properties = Schedule.model_json_schema()["properties"]
    assert set(properties) == set(Schedule.model_fields)
    assert all(properties[name].get("description") for name in properties)
    assert properties["jitter_minutes"]["maximum"] == 59
