"""Test Data: a source's exact config on a small range, nothing written; or why there is none.

The causes the seed names for an empty preview are told apart: the range is too large or too
old, the token's user lacks a role on an account, a metric/attribute/breakdown is invalid, the
combination is not one Pinterest accepts, or the range truly holds no data.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from pinads.api.client import PinterestClient
from pinads.catalog.model import Dataset, Problem
from pinads.errors import AccessDeniedError, FatalApiError
from pinads.extract.diagnose import empty_reason
from pinads.extract.discovery import discover
from pinads.extract.engine import stream_steps
from pinads.extract.plan import Plan
from pinads.extract.planning import Discovery, make_plan
from pinads.extract.request import RunRequest
from pinads.extract.steps import build_job
from pinads.runner.request import effective_period, new_request
from pinads.sources.config import SourceConfig
from pinads.sources.validate import collect_problems
from pinads.values import DateRange, RunKind

__all__ = [
    "PREVIEW_DAYS",
    "Diagnosis",
    "PreviewResult",
    "classify_problems",
    "preview_source",
    "refuse_before_calls",
]

PREVIEW_DAYS = 7
PREVIEW_ROWS = 50


class Diagnosis(enum.StrEnum):
    """Why a preview has no rows (DATA when it has some)."""

    DATA = "data"
    RANGE_TOO_LARGE = "range_too_large"
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"
    INVALID_SELECTION = "invalid_selection"
    INCOMPATIBLE_COMBINATION = "incompatible_combination"
    EMPTY_RANGE = "empty_range"
    EMPTY_BREAKDOWN = "empty_breakdown"


_HEADLINES = {
    Diagnosis.RANGE_TOO_LARGE: "No data: the date range is too large or too old for Pinterest",
    Diagnosis.INSUFFICIENT_PERMISSIONS: "No data: insufficient permissions",
    Diagnosis.INVALID_SELECTION: "No data: invalid metric, attribute or breakdown",
    Diagnosis.INCOMPATIBLE_COMBINATION: "No data: incompatible combination",
    Diagnosis.EMPTY_RANGE: "No data: the range is truly empty",
    Diagnosis.EMPTY_BREAKDOWN: "No data: the breakdown is empty",
}


class PreviewResult(BaseModel):
    """What the Test Data button shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    dataset: str
    start: date | None
    end: date | None
    diagnosis: Diagnosis
    message: str = Field(description="One line: the rows found, or why there are none.")
    columns: tuple[str, ...] = ()
    rows: tuple[dict[str, Any], ...] = Field(default=(), description="First rows (JSON-ready).")
    row_count: int = 0
    api_calls: int = 0

    @property
    def has_data(self) -> bool:
        return self.diagnosis is Diagnosis.DATA


_INVALID_HINTS = ("unknown", "is not an attribute", "is not a dataset", "is a metric", "is an attr")


def classify_problems(problems: list[Problem]) -> Diagnosis:
    """The seed's cause for a list of validation problems (the most fundamental first)."""
    fields = [(p.field, p.message) for p in problems]
    if any(f == "accounts" and "insufficient permissions" in m for f, m in fields):
        return Diagnosis.INSUFFICIENT_PERMISSIONS
    if any(
        f in ("dataset", "attributes", "metrics", "granularity") and _invalid(m) for f, m in fields
    ):
        return Diagnosis.INVALID_SELECTION
    if any(f == "date_range" for f, _ in fields):
        return Diagnosis.RANGE_TOO_LARGE
    return Diagnosis.INCOMPATIBLE_COMBINATION


def _invalid(message: str) -> bool:
    return any(hint in message for hint in _INVALID_HINTS)


def _small_range(config: SourceConfig, today: date) -> DateRange:
    period = effective_period(config, today=today, explicit=None, resync=False)
    start = max(period.start, period.end - timedelta(days=PREVIEW_DAYS - 1))
    return DateRange(start=start, end=period.end)


def _failed(
    config: SourceConfig, period: DateRange | None, kind: Diagnosis, why: str
) -> PreviewResult:
    return PreviewResult(
        source=config.name,
        dataset=config.dataset,
        start=period.start if period else None,
        end=period.end if period else None,
        diagnosis=kind,
        message=f"{_HEADLINES[kind]}: {why}",
    )


def refuse_before_calls(
    config: SourceConfig, *, today: date, period: DateRange | None = None
) -> PreviewResult | None:
    """The preview's answer when the config alone explains why there can be no rows (catalog,
    combination, dates: no call to Pinterest needed), else None."""
    checked = config if period is None else config.model_copy(update={"date_range": period})
    dataset, problems = collect_problems(checked, today=today)
    if not problems and dataset is not None:
        return None
    why = "; ".join(str(p) for p in problems)
    return _failed(checked, period, classify_problems(problems), why)


def preview_source(
    config: SourceConfig,
    client: PinterestClient,
    *,
    today: date,
    period: DateRange | None = None,
    limit: int = PREVIEW_ROWS,
) -> PreviewResult:
    """Run `config` on `period` (default: the last 7 days of its range) without writing."""
    visible = client.ad_accounts()
    if period is not None:
        config = config.model_copy(update={"date_range": period})
    dataset, problems = collect_problems(config, today=today, visible_accounts=visible)
    if problems or dataset is None:
        why = "; ".join(str(p) for p in problems)
        return _failed(config, period, classify_problems(problems), why)
    period = period or _small_range(config, today)
    config = config.model_copy(update={"date_range": period})
    request = new_request(
        config, dataset, kind=RunKind.PREVIEW, run_id="preview", today=today, period=period
    )
    try:
        found = discover(request, client)
        try:
            table = _extract(request, found, make_plan(request, found), client)
        finally:
            found.close()
    except AccessDeniedError as exc:
        return _failed(config, period, Diagnosis.INSUFFICIENT_PERMISSIONS, str(exc))
    except FatalApiError as exc:
        return _failed(config, period, Diagnosis.INCOMPATIBLE_COMBINATION, str(exc))
    return _result(
        config,
        request.dataset,
        found,
        table=table,
        period=period,
        client=client,
        limit=limit,
        today=today,
    )


def _extract(
    request: RunRequest, found: Discovery, plan: Plan, client: PinterestClient
) -> pa.Table:
    """The plan's rows in memory (a preview's range is small), written nowhere."""
    batches: list[pa.RecordBatch] = []
    for output in stream_steps(build_job(request, found, client), list(plan.steps)):
        try:
            batches.extend(output.batches)
        finally:
            output.close()
    return pa.Table.from_batches(batches, schema=request.table.schema)


def _result(
    config: SourceConfig,
    dataset: Dataset,
    found: Discovery,
    *,
    table: pa.Table,
    period: DateRange,
    client: PinterestClient,
    limit: int,
    today: date,
) -> PreviewResult:
    accounts = len(found.accounts)
    if table.num_rows == 0:
        breakdown_empty, reason = empty_reason(
            client, dataset, account_ids=found.accounts, period=period, today=today
        )
        why = f"Pinterest returned no rows for {period} from {accounts} ad account(s); {reason}"
        kind = Diagnosis.EMPTY_BREAKDOWN if breakdown_empty else Diagnosis.EMPTY_RANGE
        result = _failed(config, period, kind, why)
        return result.model_copy(update={"columns": tuple(table.column_names)})
    shown = table.slice(0, limit).to_pylist()
    return PreviewResult(
        source=config.name,
        dataset=config.dataset,
        start=period.start,
        end=period.end,
        diagnosis=Diagnosis.DATA,
        message=f"{table.num_rows} rows for {period} from {accounts} ad account(s)",
        columns=tuple(table.column_names),
        rows=tuple(shown),
        row_count=table.num_rows,
        api_calls=client.stats.calls,
    )
