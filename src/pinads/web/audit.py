"""The audit log: who did what, to what, from where, and when, in the control DB and in the
log (logger `pinads.audit`).

Entries are (actor, action, target, details, at, address): an actor is a web user or
`cli:<os user>`; an action is `area.verb` (`login.failure`, `source.update`); details hold
only names and dates, never a password, token or secret (callers pass them explicitly).
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from pinads.state import AuditEntry, AuditRepository
from pinads.state.db import utc_now

__all__ = ["AuditLog", "AuditPage", "cli_actor"]

log = logging.getLogger("pinads.audit")
MAX_PAGE = 500
_MAX_ACTOR, _MAX_TARGET = 64, 255


class AuditPage(BaseModel):
    """Newest first; pass `next_before` as `before` for the next page (null: no more)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    entries: list[AuditEntry]
    next_before: int | None


def cli_actor() -> str:
    """The actor of a command-line change: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class AuditLog:
    def __init__(
        self, repository: AuditRepository, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.repository = repository
        self.clock = clock

    def record(
        self,
        *,
        actor: str,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        row = {
            "at": self.clock(),
            "actor": actor[:_MAX_ACTOR],
            "action": action,
            "target": target[:_MAX_TARGET] if target is not None else None,
            # Dates and the like as text: the column holds JSON.
            "details": json.loads(json.dumps(details or {}, default=str)),
            "address": address,
        }
        self.repository.insert(**row)
        log.info(
            "actor=%s action=%s target=%s address=%s details=%s",
            row["actor"],
            action,
            row["target"],
            address,
            json.dumps(row["details"], sort_keys=True, default=str),
        )

    def entries(
        self,
        *,
        limit: int = 50,
        before: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, ids below `before`; `action` matches a prefix ("login." or "login")."""
        return self.repository.entries(
            limit=max(1, min(limit, MAX_PAGE + 1)), before=before, actor=actor, action=action
        )

    def page(
        self, *, limit: int = 50, before: int | None = None, **filters: str | None
    ) -> AuditPage:
        """One page of `entries` and where the next one starts."""
        limit = max(1, min(limit, MAX_PAGE))
        found = self.entries(limit=limit + 1, before=before, **filters)
        more = len(found) > limit
        shown = found[:limit]
        return AuditPage(entries=shown, next_before=shown[-1].id if more and shown else None)
