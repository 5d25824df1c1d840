"""What pages and the API show about a source, and starting its runs in the background."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pinads.auth import dead_reason
from pinads.catalog import DATASETS, Dataset, date_limits
from pinads.errors import ConfigError
from pinads.extract import RunProgress
from pinads.load import open_destination
from pinads.runner import RunRecord, RunResult
from pinads.runner import service as runs
from pinads.schedule import next_run_after
from pinads.settings import AppSettings
from pinads.sources import SourceConfig
from pinads.values import DateRange, Frequency, RunKind
from pinads.web.context import WebContext
from pinads.web.jobs import Job

__all__ = [
    "SourceView",
    "busy_job",
    "check_backfill_range",
    "check_destination",
    "earliest_backfill_day",
    "last_run",
    "match_reason",
    "source_view",
    "source_views",
    "start_backfill",
    "start_rebuild",
    "start_run",
]


class SourceView(BaseModel):
    """A saved source with its schedule's next run and its last run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dataset: str
    authorizer: str
    accounts: str | list[str] = Field(description='"all" or the ad account ids.')
    schedule: str = Field(description="The schedule in words, or manual.")
    next_run: datetime | None = Field(description="Next scheduled run (UTC), if scheduled.")
    paused: str | None = Field(
        default=None,
        description="Why the schedule is paused (its authorizer needs re-authorization).",
    )
    last_run: RunRecord | None
    config: dict[str, Any] = Field(description="The full config document.")


def next_run(config: SourceConfig, *, now: datetime | None = None) -> datetime | None:
    schedule = config.schedule
    if schedule is None or schedule.frequency is Frequency.MANUAL:
        return None
    return next_run_after(schedule, now or datetime.now(UTC), source_name=config.name)


# Test Data on a saved source is recorded in run history too, but "last run" means the last
# time data was loaded: previews are skipped (looking this far back is plenty in practice).
_LAST_RUN_LOOKBACK = 50


_RECENT_RUNS = 1000


def last_run(ctx: WebContext, name: str) -> RunRecord | None:
    recent = runs.list_runs(name, limit=_LAST_RUN_LOOKBACK, settings=ctx.settings)
    return next((r for r in recent if r.kind != RunKind.PREVIEW.value), None)


def last_runs(ctx: WebContext, names: Sequence[str]) -> dict[str, RunRecord | None]:
    """Each source's last run from one read of recent history (a list of many sources must
    not open the control DB once per source); asked one by one only past that window."""
    recent = runs.list_runs(None, limit=_RECENT_RUNS, settings=ctx.settings)
    found: dict[str, RunRecord | None] = {}
    for record in recent:
        if record.kind != RunKind.PREVIEW.value and record.source not in found:
            found[record.source] = record
    complete = len(recent) < _RECENT_RUNS
    return {
        name: found.get(name) if name in found or complete else last_run(ctx, name)
        for name in names
    }


def _dead_authorizers(ctx: WebContext) -> dict[str, str]:
    """Label and id of each authorizer that needs re-authorization -> its schedule pause."""
    now = datetime.now(UTC)
    with ctx.authorizers() as service:
        listed = service.list()
    dead: dict[str, str] = {}
    for a in listed:
        why = dead_reason(revoked=a.is_revoked, refresh_expires_at=a.refresh_expires_at, now=now)
        if why is not None:
            text = f"paused: authorizer {a.label} needs re-authorization (it {why})"
            dead[a.label] = dead[str(a.id)] = text
    return dead


def source_view(ctx: WebContext, config: SourceConfig) -> SourceView:
    return _view(config, last_run(ctx, config.name), _dead_authorizers(ctx))


def source_views(ctx: WebContext, configs: Sequence[SourceConfig]) -> list[SourceView]:
    lasts = last_runs(ctx, [c.name for c in configs])
    dead = _dead_authorizers(ctx)
    return [_view(c, lasts[c.name], dead) for c in configs]


def _view(config: SourceConfig, last: RunRecord | None, dead: dict[str, str]) -> SourceView:
    schedule = config.schedule
    upcoming = next_run(config)
    return SourceView(
        name=config.name,
        dataset=config.dataset,
        authorizer=config.authorizer,
        accounts=config.accounts if isinstance(config.accounts, str) else list(config.accounts),
        schedule=schedule.describe() if schedule is not None else "manual",
        next_run=upcoming,
        paused=dead.get(config.authorizer) if upcoming is not None else None,
        last_run=last,
        config=config.to_document(),
    )


Work = Callable[[Callable[[RunProgress], None]], RunResult]


def check_destination(settings: AppSettings, where: str) -> None:
    """Open the destination and check it can be written (the wizard's Destination step and
    the API's create do the same), or raise the error saying why not."""
    destination = open_destination(where, settings=settings)
    try:
        destination.check()
    finally:
        destination.close()


def busy_job(ctx: WebContext, name: str) -> Job | None:
    """The source's run or backfill this server is running now, if any."""
    return next((j for j in ctx.jobs.for_source(name) if j.status == "running"), None)


def start_run(ctx: WebContext, name: str) -> Job:
    def work(progress: Callable[[RunProgress], None]) -> RunResult:
        return runs.run(name, settings=ctx.settings, opener=ctx.open_client, progress=progress)

    return ctx.jobs.start(source=name, kind="manual", work=work)


def earliest_backfill_day(config: SourceConfig, *, today: date) -> date | None:
    """The first day Pinterest still serves for the source (async reports where the dataset
    has them), or None for entity datasets, which have no dates."""
    dataset = DATASETS.get(config.dataset)
    if dataset is None or not dataset.is_analytics:
        return None
    use_async = dataset.async_report is not None
    reach = date_limits(dataset, config.granularity, use_async=use_async).max_days_back
    return today - timedelta(days=reach)


def check_backfill_range(config: SourceConfig, *, start: date, end: date | None) -> None:
    """Refuse a range Pinterest will not serve before any job starts: the answer to the
    request, not a job that fails a minute later."""
    today = datetime.now(UTC).date()
    if start > today:
        raise ConfigError(f"the backfill starts on {start}, after today: choose a past day")
    if end is not None and end < start:
        raise ConfigError(f"the backfill ends on {end}, before its start {start}: swap them")
    if end is not None and end > today:
        raise ConfigError(f"the backfill ends on {end}, after today: end on {today} or earlier")
    earliest = earliest_backfill_day(config, today=today)
    if earliest is not None and start < earliest:
        raise ConfigError(
            f"the backfill starts on {start}, but Pinterest keeps this data from {earliest} "
            f"({(today - earliest).days} days back): start on {earliest} or later"
        )
    DateRange(start=start, end=end or today)


def start_backfill(
    ctx: WebContext, name: str, *, start: date, end: date | None, restart: bool = False
) -> Job:
    """A backfill job; `restart` discards the range's saved plan and progress first."""
    check_backfill_range(runs.get_source(name, settings=ctx.settings), start=start, end=end)

    def work(progress: Callable[[RunProgress], None]) -> RunResult:
        return runs.backfill(
            name,
            start=start,
            end=end,
            settings=ctx.settings,
            opener=ctx.open_client,
            progress=progress,
            restart=restart,
        )

    return ctx.jobs.start(source=name, kind="backfill", work=work)


def start_rebuild(ctx: WebContext, document: dict[str, Any]) -> Job | None:
    """Rebuild a source's table with an edited config in the background (the config is saved
    when the new table is swapped in). The edit is checked first, so a wrong config is an
    answer to the request, not a failed job. None when the source has written no rows: the
    config was saved at once, there was nothing to rebuild."""
    name = str(document.get("name", ""))
    settings, opener = ctx.settings, ctx.open_client
    if runs.rebuild_target(document, settings=settings, opener=opener) is None:
        runs.update_source(document, settings=settings, opener=opener)
        return None

    def work(progress: Callable[[RunProgress], None]) -> RunResult:
        _, result = runs.update_source(
            document, rebuild=True, settings=settings, opener=opener, progress=progress
        )
        if result is None:  # its runs vanished meanwhile (the source was deleted)
            raise ConfigError(f"source {name!r} has no table to rebuild any more")
        return result

    return ctx.jobs.start(source=name, kind=RunKind.REBUILD.value, work=work)


def _norm(text: str) -> str:
    # As the catalog's search compares: case, spaces, "_" and "-" do not matter.
    return re.sub(r"[\s_\-]+", "", text.lower())


def _names_matching(names: list[str], terms: list[str], limit: int = 3) -> str:
    hits = [n for n in names if any(t in _norm(n) for t in terms)]
    more = f" (+{len(hits) - limit} more)" if len(hits) > limit else ""
    return ", ".join(hits[:limit]) + more


def match_reason(dataset: Dataset, query: str) -> str:
    """Why a search found the dataset, when not by its name or title: the attributes and
    metrics that matched (so a search by metric shows which datasets offer it)."""
    terms = [t for t in {_norm(query), *(_norm(w) for w in query.split())} if t]
    if not terms or any(t in _norm(dataset.name) or t in _norm(dataset.title) for t in terms):
        return ""
    parts = []
    attributes = _names_matching([a.name for a in dataset.attributes], terms)
    if attributes:
        parts.append(f"attributes: {attributes}")
    metrics = _names_matching([m.name for m in dataset.metrics], terms)
    if metrics:
        parts.append(f"metrics: {metrics}")
    return " · ".join(parts)
