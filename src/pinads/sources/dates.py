"""Date ranges of a source: absolute, named rolling ranges, and Dataddo-style `NdM` spans.

A rolling range is stored as written (`last_30_days`, `30d1`) and resolved against "today" (UTC,
Pinterest's reporting day) each time a run starts, so a scheduled source always reads fresh days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pinads.values import DateRange, DateRangeSpec

__all__ = ["NAMED_RANGES", "parse_date_range", "resolve_date_range"]

# `30d1`: 30 days back to 1 day back; units d(ays), w(eeks), m(onths), y(ears) as in Dataddo's
# `{{NdM}}` macros. Braces are accepted so Dataddo users can paste their macro unchanged.
_SPAN = re.compile(r"^\{?\{?\s*(\d{1,4})\s*([dwmy])\s*(\d{1,4})\s*\}?\}?$")
_LAST_N = re.compile(r"^last_(\d{1,4})_days$")

NAMED_RANGES: tuple[str, ...] = (
    "today",
    "yesterday",
    "last_7_days",
    "last_14_days",
    "last_30_days",
    "last_90_days",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_year",
)


def parse_date_range(value: Any) -> DateRangeSpec:
    """Normalise what a user wrote; ValueError with the accepted forms if it is none of them."""
    if isinstance(value, DateRange):
        return value
    if isinstance(value, dict):
        return DateRange.model_validate(value)
    if isinstance(value, str):
        raw = value.strip().lower()
        span = _SPAN.match(raw)
        if span:
            return f"{int(span.group(1))}{span.group(2)}{int(span.group(3))}"
        text = raw.replace(" ", "_").replace("-", "_")
        if text in NAMED_RANGES or _LAST_N.match(text):
            return text
    raise ValueError(
        f"date range {value!r} is not one pinads understands; use one of "
        f"{', '.join(NAMED_RANGES)}, last_N_days, a Dataddo-style span such as 30d1 "
        "(30 days back to 1 day back; units d, w, m, y) or {start: YYYY-MM-DD, end: YYYY-MM-DD}"
    )


def resolve_date_range(spec: DateRangeSpec, *, today: date) -> DateRange:
    """The days `spec` means when the run starts on `today` (UTC)."""
    if isinstance(spec, DateRange):
        return spec
    named = _named(spec, today)
    if named is not None:
        return named
    last_n = _LAST_N.match(spec)
    if last_n:
        # "last N days" ends yesterday, as in Ads Manager: today's numbers are still moving.
        days = int(last_n.group(1))
        return DateRange(start=today - timedelta(days=days), end=today - timedelta(days=1))
    match = _SPAN.match(spec)
    if match is None:
        raise ValueError(f"date range {spec!r} cannot be resolved")
    back, unit, until = int(match.group(1)), match.group(2), int(match.group(3))
    if until > back:
        raise ValueError(f"date range {spec!r} ends ({until}{unit} back) before it starts")
    return DateRange(start=_unit_start(today, unit, back), end=_unit_end(today, unit, until))


def _named(spec: str, today: date) -> DateRange | None:
    table = {
        "today": "0d0",
        "yesterday": "1d1",
        "this_week": "0w0",
        "last_week": "1w1",
        "this_month": "0m0",
        "last_month": "1m1",
        "this_year": "0y0",
    }
    if spec in table:
        return resolve_date_range(table[spec], today=today)
    return None


def _shift_months(day: date, months: int) -> date:
    """First day of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _unit_start(today: date, unit: str, back: int) -> date:
    """First day of the unit `back` units before today (days: that day itself)."""
    if unit == "d":
        return today - timedelta(days=back)
    if unit == "w":  # ISO weeks start on Monday
        return today - timedelta(days=today.weekday()) - timedelta(weeks=back)
    if unit == "m":
        return _shift_months(today, back)
    return date(today.year - back, 1, 1)


def _unit_end(today: date, unit: str, back: int) -> date:
    """Last day of the unit `back` units before today, never after today."""
    if unit == "d":
        return today - timedelta(days=back)
    if back == 0:
        return today
    if unit == "w":
        return _unit_start(today, unit, back) + timedelta(days=6)
    if unit == "m":
        return _shift_months(today, back - 1) - timedelta(days=1)
    return date(today.year - back, 12, 31)
