"""Date ranges: a resolved, inclusive range of UTC days, and what a source stores for one."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DateRange", "DateRangeSpec"]


class DateRange(BaseModel):
    """A resolved, inclusive range of UTC days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date = Field(description="First day (inclusive).")
    end: date = Field(description="Last day (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


DateRangeSpec = str | DateRange
"""What a source stores: a rolling expression (`last_30_days`, `30d1`) or absolute days."""
