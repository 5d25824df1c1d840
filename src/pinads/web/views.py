"""What pages and the API show about a source, and starting its runs in the background."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pinads.runner import RunProgress, RunRecord, RunResult
from pinads.runner import service as runs
from pinads.schedule import Frequency, next_run_after
from pinads.sources import DateRange, SourceConfig
from pinads.web.context import WebContext
from pinads.web.jobs import Job

__all__ = ["SourceView", "source_view", "start_backfill", "start_run"]


class SourceView(BaseModel):
    """A saved source with its schedule's next run and its last run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dataset: str
    authorizer: str
    accounts: str | list[str] = Field(description='"all" or the ad account ids.')
    schedule: str = Field(description="The schedule in words, or manual.")
    next_run: datetime | None = Field(description="Next scheduled run (UTC), if scheduled.")
    last_run: RunRecord | None
    config: dict[str, Any] = Field(description="The full config document.")


def next_run(config: SourceConfig, *, now: datetime | None = None) -> datetime | None:
    schedule = config.schedule
    if schedule is None or schedule.frequency is Frequency.MANUAL:
        return None
    return next_run_after(schedule, now or datetime.now(UTC), source_name=config.name)


def source_view(ctx: WebContext, config: SourceConfig) -> SourceView:
    last = runs.list_runs(config.name, limit=1, settings=ctx.settings)
    schedule = config.schedule
    return SourceView(
        name=config.name,
        dataset=config.dataset,
        authorizer=config.authorizer,
        accounts=config.accounts if isinstance(config.accounts, str) else list(config.accounts),
        schedule=schedule.describe() if schedule is not None else "manual",
        next_run=next_run(config),
        last_run=last[0] if last else None,
        config=config.to_document(),
    )


Work = Callable[[Callable[[RunProgress], None]], RunResult]


def start_run(ctx: WebContext, name: str) -> Job:
    def work(progress: Callable[[RunProgress], None]) -> RunResult:
        return runs.run(name, settings=ctx.settings, opener=ctx.open_client, progress=progress)

    return ctx.jobs.start(source=name, kind="manual", work=work)


def start_backfill(ctx: WebContext, name: str, *, start: date, end: date | None) -> Job:
    # Checked here, so a wrong range is an answer to the request, not a failed job.
    runs.get_source(name, settings=ctx.settings)
    DateRange(start=start, end=end or datetime.now(UTC).date())

    def work(progress: Callable[[RunProgress], None]) -> RunResult:
        return runs.backfill(
            name,
            start=start,
            end=end,
            settings=ctx.settings,
            opener=ctx.open_client,
            progress=progress,
        )

    return ctx.jobs.start(source=name, kind="backfill", work=work)
