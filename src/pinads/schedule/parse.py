"""`parse_schedule`: a source's schedule as the user wrote it, or one ConfigError line."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pinads.errors import ConfigError
from pinads.values import Schedule

__all__ = ["parse_schedule"]


def parse_schedule(value: Any) -> Schedule:
    """A Schedule from a shorthand string or a mapping; ConfigError naming what to change."""
    try:
        return Schedule.model_validate(value)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
            problems.append(f"schedule.{where}: {message}" if where else f"schedule: {message}")
        raise ConfigError("; ".join(problems)) from exc
