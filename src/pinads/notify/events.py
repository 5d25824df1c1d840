"""What pinads notifies about, as one JSON-ready model for every channel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Event",
    "EventKind",
    "authorizer_dead",
    "authorizer_expiring",
    "run_empty",
    "run_failed",
]


class EventKind(enum.StrEnum):
    RUN_FAILED = "run.failed"
    RUN_EMPTY = "run.empty"  # a run that succeeded with no rows (allow_empty or not)
    AUTHORIZER_REVOKED = "authorizer.revoked"  # revoked here, or refused by Pinterest
    AUTHORIZER_EXPIRING = "authorizer.expiring"  # refresh token within 7 days of its end
    TEST = "test"  # `pinads notify test`: checks a channel


class Event(BaseModel):
    """One notification. `summary` is the one line a person reads (an email's subject);
    `details` holds names, counts and dates, never a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EventKind
    at: datetime
    summary: str
    source: str | None = None
    authorizer: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    def body(self) -> bytes:
        """The webhook's JSON body (also what the signature covers)."""
        return self.model_dump_json().encode()


def run_failed(*, source: str, authorizer: str, error: str, at: datetime) -> Event:
    return Event(
        kind=EventKind.RUN_FAILED,
        at=at,
        summary=f"run of {source} failed: {error}",
        source=source,
        authorizer=authorizer,
        details={"error": error},
    )


def run_empty(*, source: str, authorizer: str, reason: str, at: datetime) -> Event:
    return Event(
        kind=EventKind.RUN_EMPTY,
        at=at,
        summary=f"run of {source} got no data",
        source=source,
        authorizer=authorizer,
        details={"reason": reason},
    )


def authorizer_dead(*, label: str, why: str, sources: list[str], at: datetime) -> Event:
    used = ", ".join(sources) or "none"
    return Event(
        kind=EventKind.AUTHORIZER_REVOKED,
        at=at,
        summary=f"authorizer {label} needs re-authorization: it {why} (sources: {used})",
        authorizer=label,
        details={"why": why, "sources": sources, "fix": f"pinads auth reauthorize {label}"},
    )


def authorizer_expiring(
    *, label: str, expires_at: datetime, sources: list[str], at: datetime
) -> Event:
    days = max(0, (expires_at - at).days)
    return Event(
        kind=EventKind.AUTHORIZER_EXPIRING,
        at=at,
        summary=f"the refresh token of authorizer {label} expires in {days} day(s)",
        authorizer=label,
        details={
            "expires_at": expires_at.isoformat(),
            "sources": sources,
            "fix": f"pinads auth test {label} (any run renews it too)",
        },
    )
