"""The plans of backfill runs, kept with their run records.

A backfill's steps are checkpointed in the destination under ids built from what they read
(for synchronous calls, a digest of the entity id batch). Re-planned on another day, with
entities created or archived meanwhile, the batches and so the ids would differ, and the steps
already written would run again: twice the rows in append mode. The stored plan lets a resumed
(or repeated) backfill of the same range finish the very steps that were planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.records import RunRecord, StoredPlan
from pinads.state.schema import RUN_PLANS, RUNS
from pinads.values import RunKind

__all__ = ["PlanRepository"]


class PlanRepository:
    """Backfill plans by run."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def save(self, run_id: str, *, basis: str, plan: Mapping[str, Any]) -> None:
        """Store (or replace) the plan of a run, before its first step is written."""
        values = {"run_id": run_id, "basis": basis, "plan": dict(plan), "created_at": utc_now()}
        with self._engine.begin() as conn:
            conn.execute(RUN_PLANS.delete().where(RUN_PLANS.c.run_id == run_id))
            conn.execute(RUN_PLANS.insert().values(**values))

    def latest_backfill(
        self, source_id: int, *, start: date, end: date | None = None
    ) -> StoredPlan | None:
        """The plan of the source's latest backfill of `start..end` (any end when None) that
        stored one."""
        query = (
            sa.select(RUNS, RUN_PLANS.c.basis, RUN_PLANS.c.plan)
            .join(RUN_PLANS, RUN_PLANS.c.run_id == RUNS.c.id)
            .where(
                (RUNS.c.source_id == source_id)
                & (RUNS.c.kind == RunKind.BACKFILL.value)
                & (RUNS.c.range_start == start)
            )
            .order_by(RUNS.c.started_at.desc(), RUNS.c.id)
            .limit(1)
        )
        if end is not None:
            query = query.where(RUNS.c.range_end == end)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        fields = dict(row._mapping)
        basis, plan = fields.pop("basis"), fields.pop("plan")
        return StoredPlan(run=RunRecord.model_validate(fields), basis=basis, plan=plan)

    def discard_backfills(self, source_id: int, *, start: date, end: date) -> list[dict[str, Any]]:
        """Delete the plans of the source's backfills of `start..end` (`backfill --restart`);
        return them, so the caller can forget their steps' checkpoints too."""
        runs = sa.select(RUNS.c.id).where(
            (RUNS.c.source_id == source_id)
            & (RUNS.c.kind == RunKind.BACKFILL.value)
            & (RUNS.c.range_start == start)
            & (RUNS.c.range_end == end)
        )
        with self._engine.begin() as conn:
            plans = [
                dict(row.plan)
                for row in conn.execute(
                    sa.select(RUN_PLANS.c.plan).where(RUN_PLANS.c.run_id.in_(runs))
                )
            ]
            conn.execute(RUN_PLANS.delete().where(RUN_PLANS.c.run_id.in_(runs)))
        return plans
