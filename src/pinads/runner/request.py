"""The runner's one decision before a run: what the run is, as one frozen `RunRequest`.

The days (a scheduled run re-reads the trailing attribution window), how the planner reads
them (backfills and rebuilds in report batches), where steps are checkpointed (backfills share
a scope so they resume) and the write mode (a rebuild replaces the table) all follow from the
source and the kind of run, here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from pinads.api.reports import ReportPolling
from pinads.catalog.limits import SYNC_MAX_DAYS_BACK
from pinads.catalog.model import Dataset
from pinads.extract.engine import DEFAULT_WORKERS
from pinads.extract.plan import Strategy
from pinads.extract.request import RunRequest
from pinads.runner.grain import table_grain
from pinads.sources.config import SourceConfig
from pinads.sources.dates import resolve_date_range
from pinads.values import DateRange, RunKind, WriteMode

__all__ = [
    "BACKFILL_SCOPE",
    "effective_period",
    "new_request",
    "run_period",
    "strategy_of",
    "with_grain",
]

BACKFILL_SCOPE = "backfill"  # backfill checkpoints persist across invocations (resume)


def effective_period(
    config: SourceConfig, *, today: date, explicit: DateRange | None, resync: bool
) -> DateRange:
    """The days a run reads: an explicit range as given; else the source's range, stretched
    back to re-read the trailing attribution window (late conversions) on scheduled runs."""
    if explicit is not None:
        return explicit
    period = resolve_date_range(config.date_range, today=today)
    lookback = config.effective_lookback_days
    if not resync or lookback <= 0 or not config.is_rolling:
        return period
    resync_start = period.end - timedelta(days=lookback - 1)
    floor = today - timedelta(days=SYNC_MAX_DAYS_BACK)  # never pull a run into async reports
    return DateRange(start=min(period.start, max(resync_start, floor)), end=period.end)


def run_period(
    config: SourceConfig,
    dataset: Dataset,
    *,
    kind: RunKind,
    today: date,
    period: DateRange | None,
) -> DateRange | None:
    """The days a run of `kind` reads (None for an entity dataset)."""
    if not dataset.is_analytics:
        return None
    resync = kind is RunKind.SCHEDULED or period is None
    return effective_period(config, today=today, explicit=period, resync=resync)


def strategy_of(kind: RunKind) -> Strategy:
    """Backfills and rebuilds cut their range into report batches (reading the trailing ones
    synchronously when cheaper); other runs read the last 90 days synchronously and older days
    by reports."""
    return Strategy.CHEAPEST if kind in (RunKind.BACKFILL, RunKind.REBUILD) else Strategy.AUTO


def new_request(
    config: SourceConfig,
    dataset: Dataset,
    *,
    kind: RunKind,
    run_id: str,
    today: date,
    period: DateRange | None,
    strategy: Strategy | None = None,
    restart: bool = False,
    workers: int = DEFAULT_WORKERS,
    report_polls: int = 1,
    polling: ReportPolling | None = None,
    extracted_at: datetime | None = None,
) -> RunRequest:
    """The request of one run of `config`: `period` is the days already decided (see
    `run_period`); `strategy` overrides the kind's (tests compare the report and synchronous
    paths)."""
    if kind is RunKind.REBUILD:  # the whole table anew, swapped in at the end
        config = config.model_copy(update={"write_mode": WriteMode.REPLACE})
    backfill = kind is RunKind.BACKFILL
    request = RunRequest.of(
        config,
        dataset,
        kind=kind,
        run_id=run_id,
        today=today,
        period=period,
        strategy=strategy or strategy_of(kind),
        scope=BACKFILL_SCOPE if backfill else f"run:{run_id}",
        resume=backfill,
        restart=restart,
        workers=workers,
        report_polls=report_polls,
        polling=polling,
        extracted_at=extracted_at,
    )
    return with_grain(request)


def with_grain(request: RunRequest) -> RunRequest:
    """The request with its table's grain fingerprint: a destination refuses to write rows of
    another grain into a table it keeps."""
    table = request.table
    grain = table_grain(request.config, table.key)
    return dataclasses.replace(request, table=table.model_copy(update={"grain": grain}))
