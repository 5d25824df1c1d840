"""A plan as a JSON document and back: stored with a backfill's run record, so that a resumed
backfill finishes the very steps the interrupted one planned (`plan.resume_plan`).

Step ids are stored as they were, not recomputed: they are what the destination checkpointed.
Id batches are stored once per account (every synchronous window of an account reads the same
batches), so a plan over thousands of ids stays a few hundred kB at most.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from pinads.extract.plan import Plan, PlanStep, StepKind
from pinads.values import DateRange

__all__ = ["PLAN_FORMAT", "plan_document", "plan_from_document"]

log = logging.getLogger(__name__)

PLAN_FORMAT = 1  # bumped when the document's shape changes; other formats are not resumed


def _step_entry(
    step: PlanStep, batches: dict[str, list[list[str]]], index: dict[tuple[str, ...], int]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": step.step_id,
        "kind": step.kind.value,
        "account": step.account_id,
        "calls": step.api_calls,
    }
    if step.start is not None and step.end is not None:
        entry["start"], entry["end"] = step.start.isoformat(), step.end.isoformat()
    if step.ids:
        if step.ids not in index:
            held = batches.setdefault(step.account_id, [])
            index[step.ids] = len(held)
            held.append(list(step.ids))
        entry["batch"] = index[step.ids]
    return entry


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (dates as ISO strings)."""
    batches: dict[str, list[list[str]]] = {}
    index: dict[tuple[str, ...], int] = {}  # an id batch belongs to one account
    period = plan.date_range
    return {
        "format": PLAN_FORMAT,
        "dataset": plan.dataset,
        "start": period.start.isoformat() if period else None,
        "end": period.end.isoformat() if period else None,
        "discovery_calls": plan.discovery_calls,
        "entity_lists": list(plan.entity_lists),
        "reason": plan.reason,
        "steps": [_step_entry(step, batches, index) for step in plan.steps],
        "batches": batches,
    }


def _day(text: object) -> date | None:
    return None if text is None else date.fromisoformat(str(text))


def _step(entry: Mapping[str, Any], batches: Mapping[str, list[list[str]]]) -> PlanStep:
    account = str(entry["account"])
    batch = entry.get("batch")
    return PlanStep(
        step_id=str(entry["id"]),
        kind=StepKind(entry["kind"]),
        account_id=account,
        api_calls=int(entry["calls"]),
        start=_day(entry.get("start")),
        end=_day(entry.get("end")),
        ids=tuple(str(i) for i in batches[account][int(batch)]) if batch is not None else (),
    )


def plan_from_document(document: Mapping[str, Any]) -> Plan | None:
    """The stored plan, or None when it is of another format or damaged (the run then plans
    afresh, as a first run would)."""
    if document.get("format") != PLAN_FORMAT:
        return None
    try:
        start, end = _day(document["start"]), _day(document["end"])
        batches = document["batches"]
        return Plan(
            dataset=str(document["dataset"]),
            date_range=DateRange(start=start, end=end) if start and end else None,
            steps=tuple(_step(entry, batches) for entry in document["steps"]),
            discovery_calls=int(document["discovery_calls"]),
            entity_lists=tuple(str(name) for name in document["entity_lists"]),
            reason=str(document.get("reason", "")),  # absent from plans stored before it
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        log.warning("a stored plan is damaged (%s: %s): planning afresh", type(exc).__name__, exc)
        return None
