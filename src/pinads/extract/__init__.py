"""Extraction: the planner (fewest API calls), fetching steps, and normalisation to Arrow."""

from pinads.extract.engine import DEFAULT_WORKERS, ExtractJob, StepOutput, run_steps
from pinads.extract.plan import Plan, PlanStep, StepKind, Strategy, plan_analytics, plan_entities
from pinads.extract.table import Selection, build_table_spec, resolve_selection

__all__ = [
    "DEFAULT_WORKERS",
    "ExtractJob",
    "Plan",
    "PlanStep",
    "Selection",
    "StepKind",
    "StepOutput",
    "Strategy",
    "build_table_spec",
    "plan_analytics",
    "plan_entities",
    "resolve_selection",
    "run_steps",
]
