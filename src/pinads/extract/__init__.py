"""Extraction: a run request (`RunRequest`), discovery of accounts and entity lists, the pure
planner (`make_plan`: fewest API calls), and `run_steps`: the plan's steps fetched in parallel,
normalised to Arrow and written into a destination with their checkpoints."""

from pinads.extract.discovery import discover
from pinads.extract.engine import DEFAULT_WORKERS, ExtractJob, StepOutput, stream_steps
from pinads.extract.plan import Plan, PlanStep, StepKind, Strategy, plan_analytics, plan_entities
from pinads.extract.planning import Discovery, make_plan
from pinads.extract.request import RunRequest
from pinads.extract.steps import ProgressCallback, RunProgress, StepHooks, build_job, run_steps
from pinads.extract.table import Selection, build_table_spec, resolve_selection

__all__ = [
    "DEFAULT_WORKERS",
    "Discovery",
    "ExtractJob",
    "Plan",
    "PlanStep",
    "ProgressCallback",
    "RunProgress",
    "RunRequest",
    "Selection",
    "StepHooks",
    "StepKind",
    "StepOutput",
    "Strategy",
    "build_job",
    "build_table_spec",
    "discover",
    "make_plan",
    "plan_analytics",
    "plan_entities",
    "resolve_selection",
    "run_steps",
    "stream_steps",
]
