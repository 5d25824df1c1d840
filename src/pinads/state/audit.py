"""The audit log's table: entries written and read back newest first (what an entry holds and
the log line each one also gets are `pinads.web.audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from pinads.state.schema import AUDIT_LOG

__all__ = ["AuditEntry", "AuditRepository"]


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]
    address: str | None


class AuditRepository:
    """All access to the `audit_log` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        target: str | None,
        details: dict[str, Any],
        address: str | None,
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                AUDIT_LOG.insert().values(
                    at=at,
                    actor=actor,
                    action=action,
                    target=target,
                    details=details,
                    address=address,
                )
            )

    def entries(
        self,
        *,
        limit: int,
        before: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, ids below `before`; `action` matches a prefix ("login." or "login")."""
        query = sa.select(AUDIT_LOG).order_by(AUDIT_LOG.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(AUDIT_LOG.c.id < before)
        if actor:
            query = query.where(AUDIT_LOG.c.actor == actor)
        if action:
            query = query.where(
                sa.or_(AUDIT_LOG.c.action == action, AUDIT_LOG.c.action.startswith(f"{action}."))
            )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                target=r.target,
                details=dict(r.details or {}),
                address=r.address,
            )
            for r in rows
        ]
