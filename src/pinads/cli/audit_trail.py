"""Command-line changes in the audit log, like the pages' and the API's (actor: `cli:<os
user>`), so `pinads audit` and the Audit page show every change wherever it was made."""

from __future__ import annotations

from typing import Any

from pinads.settings import load_settings
from pinads.state import open_control_db

__all__ = ["record_cli"]


def record_cli(action: str, target: str, **details: Any) -> None:
    """Record `action` on `target`; `details` must never hold a secret."""
    from pinads.web.audit import AuditLog, cli_actor

    with open_control_db(load_settings()) as db:
        AuditLog(db.audit).record(
            actor=cli_actor(), action=action, target=target, details={**details, "via": "cli"}
        )
