"""What pinads notifies about, as one JSON-ready model for every channel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Event", "EventKind"]


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
