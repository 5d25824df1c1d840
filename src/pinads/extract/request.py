"""`RunRequest`: one run of a source as one frozen value, made before its first API call.

The runner turns a saved source (and what started the run) into a request; discovery, the
planner and the step runner all read it, and nothing changes it on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pinads.api.reports import ReportPolling
from pinads.catalog.model import Dataset
from pinads.extract.engine import DEFAULT_WORKERS
from pinads.extract.fetch import RequestSettings
from pinads.extract.plan import Strategy
from pinads.extract.table import Selection, build_table_spec, resolve_selection
from pinads.sources.config import SourceConfig
from pinads.values import DateRange, RunKind, TableSpec, WriteMode

__all__ = ["RunRequest"]


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything a run needs: the source (its name, authorizer, accounts, columns, options and
    write mode, in `config`), what the catalog makes of it (`selection`, `table`, `settings`),
    and what this run is (`kind`, `run_id`, the days, how to plan and where to checkpoint)."""

    config: SourceConfig
    selection: Selection
    table: TableSpec
    settings: RequestSettings
    kind: RunKind
    run_id: str
    today: date
    period: DateRange | None  # the days to read; None for an entity dataset
    strategy: Strategy  # how the planner reads the days (before it settles CHEAPEST)
    scope: str  # the checkpoints' scope: one run's, or the backfills' shared one
    resume: bool  # skip the steps already checkpointed in `scope`
    restart: bool = False  # a backfill forgets its range's saved plans and checkpoints first
    workers: int = DEFAULT_WORKERS
    report_polls: int = 1  # polls the planner counts per async report
    polling: ReportPolling | None = None
    extracted_at: datetime | None = None  # the rows' `_pinads_extracted_at` (default: now)

    @classmethod
    def of(
        cls,
        config: SourceConfig,
        dataset: Dataset,
        *,
        kind: RunKind,
        run_id: str,
        today: date,
        period: DateRange | None,
        strategy: Strategy,
        scope: str,
        resume: bool,
        restart: bool = False,
        workers: int = DEFAULT_WORKERS,
        report_polls: int = 1,
        polling: ReportPolling | None = None,
        extracted_at: datetime | None = None,
    ) -> RunRequest:
        """The request for `config` read as `dataset` (catalog selection and table resolved)."""
        selection = resolve_selection(config, dataset)
        return cls(
            config=config,
            selection=selection,
            table=build_table_spec(config, selection),
            settings=RequestSettings.of(config, selection),
            kind=kind,
            run_id=run_id,
            today=today,
            period=period if dataset.is_analytics else None,
            strategy=strategy,
            scope=scope,
            resume=resume,
            restart=restart,
            workers=workers,
            report_polls=report_polls,
            polling=polling,
            extracted_at=extracted_at,
        )

    @property
    def source(self) -> str:
        return self.config.name

    @property
    def dataset(self) -> Dataset:
        return self.selection.dataset

    @property
    def write_mode(self) -> WriteMode:
        return self.config.write_mode
