"""Value types several packages share: tables and write modes, date ranges, schedules.

The bottom layer of pinads: frozen values and their validation, no I/O, and no import of any
other pinads package (tests/test_layers.py enforces it), so every package may use them.
"""

from pinads.values.dates import DateRange, DateRangeSpec
from pinads.values.run import RunKind
from pinads.values.schedule import DAYS_IN_WEEK, Frequency, Schedule, Weekday, check_cron
from pinads.values.table import SHADOW_SUFFIX, ColumnSpec, TableSpec, WriteMode, shadow_name

__all__ = [
    "DAYS_IN_WEEK",
    "SHADOW_SUFFIX",
    "ColumnSpec",
    "DateRange",
    "DateRangeSpec",
    "Frequency",
    "RunKind",
    "Schedule",
    "TableSpec",
    "Weekday",
    "WriteMode",
    "check_cron",
    "shadow_name",
]
