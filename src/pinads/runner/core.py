"""`RunResult`: what a run did, as the CLI, the web pages and the run history show it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from pinads.values import RunKind

__all__ = ["RunResult"]


class RunResult(BaseModel):
    """What a run did (the run record holds the same numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    source: str
    kind: RunKind
    start: date | None
    end: date | None
    table: str
    destination: str
    rows_written: int = Field(description="Rows written by this run (upserts included).")
    rows_retrieved: int = Field(default=0, description="Rows read from Pinterest.")
    steps: int
    steps_skipped: int = Field(description="Steps already checkpointed (resumed backfill).")
    steps_reset: int = Field(
        default=0,
        description="Steps checkpointed before whose table was gone (dropped by hand): done again.",
    )
    api_calls: int = Field(description="API calls this run made (client's count).")
    planned_calls: int = Field(description="API calls the planner predicted.")
    planned_is_minimum: bool = Field(
        default=False,
        description="The plan has async reports, each polled until Pinterest finishes it: the "
        "planned count assumes one poll each.",
    )
    rate_limited: int = Field(description="429 answers waited out.")
    waited_seconds: float
    duration_seconds: float
    skipped_accounts: tuple[str, ...] = ()
