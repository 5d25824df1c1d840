"""One plan step -> Pinterest's rows: the synchronous GET or the async report of the step."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pinads.api.client import PinterestClient
from pinads.api.reports import ReportPolling, ReportResult, run_report
from pinads.catalog.model import Granularity
from pinads.errors import ExtractError
from pinads.extract.normalize import typed_rows_decoder
from pinads.extract.plan import PlanStep, StepKind
from pinads.extract.table import Selection
from pinads.sources.config import SourceConfig

__all__ = [
    "RequestSettings",
    "fetch_sync_rows",
    "report_body",
    "report_rows",
    "run_step_report",
    "sync_params",
]


@dataclass(frozen=True, slots=True)
class RequestSettings:
    """What every analytics request of a source shares."""

    selection: Selection
    click_window_days: int
    engagement_window_days: int
    view_window_days: int
    conversion_report_time: str

    @classmethod
    def of(cls, config: SourceConfig, selection: Selection) -> RequestSettings:
        return cls(
            selection=selection,
            click_window_days=config.click_window_days,
            engagement_window_days=config.engagement_window_days,
            view_window_days=config.view_window_days,
            conversion_report_time=config.conversion_report_time,
        )

    @property
    def columns(self) -> list[str]:
        return [metric.name for metric in self.selection.metrics]

    def attribution(self) -> dict[str, Any]:
        return {
            "click_window_days": self.click_window_days,
            "engagement_window_days": self.engagement_window_days,
            "view_window_days": self.view_window_days,
            "conversion_report_time": self.conversion_report_time,
        }

    def constants(self) -> dict[str, Any]:
        """The attribution key columns every row of the source carries."""
        return {f"_pinads_{key}": value for key, value in self.attribution().items()}


def sync_params(settings: RequestSettings, step: PlanStep) -> tuple[str, dict[str, Any]]:
    """Path and query of a SYNC step."""
    sync = settings.selection.dataset.sync
    if sync is None or step.start is None or step.end is None:
        raise ExtractError(f"step {step.step_id} is not a synchronous analytics step")
    params: dict[str, Any] = {
        "start_date": step.start,
        "end_date": step.end,
        "columns": settings.columns,
        "granularity": settings.selection.granularity.value,
        **settings.attribution(),
    }
    if sync.id_param is not None:
        params[sync.id_param] = list(step.ids)
    if sync.targeting_type is not None:
        params["targeting_types"] = [sync.targeting_type]
    return sync.path.format(ad_account_id=step.account_id), params


def fetch_sync_rows(
    client: PinterestClient, settings: RequestSettings, step: PlanStep
) -> list[dict[str, Any]] | pa.Table:
    """The rows of one synchronous call: flat analytics rows (a large answer as a table of the
    fields the source reads, see `typed_rows_decoder`) or targeting `data` rows."""
    path, params = sync_params(settings, step)
    payload = client.get_json(path, params, decode=typed_rows_decoder(settings.selection))
    if isinstance(payload, pa.Table):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        payload = payload["data"]
    if not isinstance(payload, list):
        raise ExtractError(
            f"Pinterest's answer to GET {path} is not a list of rows: report this to pinads "
            "with the request id from the debug log"
        )
    return payload


def report_body(settings: RequestSettings, step: PlanStep) -> dict[str, Any]:
    """The JSON body of a REPORT step. JSON, not CSV: JSON leaves an empty metric out, as the
    synchronous endpoints do, where CSV writes 0; so a backfilled day and a synced day are the
    same rows (the client streams JSON reports row by row, so memory stays flat)."""
    report = settings.selection.dataset.async_report
    if report is None or step.start is None or step.end is None:
        raise ExtractError(f"step {step.step_id} is not an async report step")
    body: dict[str, Any] = {
        "start_date": step.start.isoformat(),
        "end_date": step.end.isoformat(),
        "granularity": settings.selection.granularity.value,
        "level": report.level,
        "columns": settings.columns,
        "report_format": "JSON",
        **settings.attribution(),
    }
    if report.targeting_type is not None:
        body["targeting_types"] = [report.targeting_type]
    if settings.selection.granularity is Granularity.HOUR:
        body["start_hour"], body["end_hour"] = 0, 23
    return body


def run_step_report(
    client: PinterestClient,
    settings: RequestSettings,
    step: PlanStep,
    *,
    polling: ReportPolling | None = None,
) -> ReportResult:
    if step.kind is not StepKind.REPORT:
        raise ExtractError(f"step {step.step_id} is not an async report step")
    return run_report(client, step.account_id, report_body(settings, step), polling=polling)


def report_rows(
    result: ReportResult, *, keep_ids: frozenset[str] | None, id_key: str
) -> Iterator[dict[str, Any]]:
    """Rows of a downloaded report, without entities the source leaves out (archived ones).
    Empty CSV cells mean "no value", as an absent JSON key does."""
    csv = result.report_format == "CSV"
    for row in result.rows():
        if keep_ids is None or str(row.get(id_key) or "") in keep_ids:
            yield {k: v for k, v in row.items() if v != ""} if csv else row
