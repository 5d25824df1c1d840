from __future__ import annotations

from datetime import date

import pytest

from pinads.sources.dates import parse_date_range, resolve_date_range
from pinads.values import DateRange

TODAY = date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("today", "2026-11-28", "2026-11-28"),
        ("yesterday", "2026-11-27", "2026-11-27"),
        ("last_7_days", "2026-11-21", "2026-11-27"),
        ("last_30_days", "2026-10-29", "2026-11-27"),
        ("last 14 days", "2026-11-14", "2026-11-27"),
        ("30d1", "2026-10-29", "2026-11-27"),
        ("{{90d1}}", "2026-08-30", "2026-11-27"),
        ("0d0", "2026-11-28", "2026-11-28"),
        ("this_month", "2026-11-01", "2026-11-28"),
        ("last_month", "2026-10-01", "2026-10-31"),
        ("2m1", "2026-09-01", "2026-10-31"),
        ("this_week", "2026-11-23", "2026-11-28"),
        ("last_week", "2026-11-16", "2026-11-22"),
        ("this_year", "2026-01-01", "2026-11-28"),
        ("1y1", "2025-01-01", "2025-12-31"),
    ],
)
def test_rolling_ranges_resolve_against_today(spec: str, start: str, end: str) -> None:
    resolved = resolve_date_range(parse_date_range(spec), today=TODAY)
    assert resolved == DateRange(start=date.fromisoformat(start), end=date.fromisoformat(end))


def test_last_month_across_a_year_end() -> None:
    resolved = resolve_date_range("last_month", today=date(2027, 1, 15))
    assert (resolved.start, resolved.end) == (date(2026, 12, 1), date(2026, 12, 31))


def test_absolute_range_and_its_length() -> None:
    spec = parse_date_range({"start": "2026-09-01", "end": "2026-09-30"})
    assert isinstance(spec, DateRange)
    assert spec.days == 30
    assert resolve_date_range(spec, today=TODAY) is spec


def test_unknown_range_lists_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"last_N_days, a Dataddo-style span such as 30d1"):
        parse_date_range("fortnight")


def test_span_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        resolve_date_range("1d5", today=TODAY)


def test_absolute_range_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="before start"):
        parse_date_range({"start": "2026-09-30", "end": "2026-09-01"})
