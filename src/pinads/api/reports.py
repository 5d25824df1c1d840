"""Asynchronous reports: create, poll with backoff, download without auth, parse JSON or CSV.

Polls are ordinary API calls, so they count against the `ads_analytics` budget like the
creation. Pinterest keeps a report for an hour and its download link for five minutes: an
expired link is re-fetched by polling again. A report that ends FAILED or EXPIRED is created
again after a growing pause (bounded: `max_recreates`), as Pinterest's failures are mostly
transient; CANCELLED or an unknown token is not worth another try.

Polling follows what Pinterest's own quickstart does: the first poll waits `first_delay`
(a report is never ready the moment it is created), then the pause grows 1.5x up to 10 s, so a
slow report costs a poll every 10 s, not a burst of them.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import IO, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from pinads.api.client import PinterestClient
from pinads.api.report_rows import iter_report_rows
from pinads.api.retry import Sleep
from pinads.errors import ExtractError, FatalApiError

__all__ = ["ReportPolling", "ReportResult", "ReportStatus", "iter_report_rows", "run_report"]

log = logging.getLogger(__name__)

_SPOOL_MAX_BYTES = 16 * 1024 * 1024  # larger downloads spill to a temporary file
_LINK_EXPIRED_STATUSES = frozenset({403, 404, 410})


class ReportStatus(StrEnum):
    """Pinterest's `BulkReportingJobStatus`."""

    DOES_NOT_EXIST = "DOES_NOT_EXIST"
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


_RECREATED = frozenset({ReportStatus.FAILED, ReportStatus.EXPIRED})
_HOPELESS = {
    ReportStatus.CANCELLED: "the report was cancelled",
    ReportStatus.DOES_NOT_EXIST: "Pinterest does not know the report token",
}


class ReportPolling(BaseModel):
    """How patiently to wait for a report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_delay_seconds: float = Field(default=1.0, gt=0)
    backoff_factor: float = Field(default=1.5, ge=1.0)
    max_delay_seconds: float = Field(default=10.0, gt=0)
    max_wait_seconds: float = Field(
        default=1800.0, ge=0, description="Give up when a report is not ready after this long."
    )
    max_recreates: int = Field(
        default=2, ge=0, description="New reports after FAILED or EXPIRED (3 tries in all)."
    )
    recreate_delay_seconds: float = Field(
        default=2.0, ge=0, description="Pause before the first new report; doubled each time."
    )
    max_link_refreshes: int = Field(default=3, ge=0, description="Re-polls after a dead link.")


@dataclass
class ReportResult:
    """A downloaded report. Iterate `rows()` (streamed for CSV), then `close()` (or use `with`)."""

    token: str
    report_format: Literal["JSON", "CSV"]
    size_bytes: int
    creations: int  # reports created: 1 unless one expired before it could be downloaded
    _file: IO[bytes] = field(repr=False)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row of the report as a dict (column name -> value)."""
        self._file.seek(0)
        return iter_report_rows(self._file, self.report_format)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _create(client: PinterestClient, path: str, body: Mapping[str, Any]) -> str:
    payload = client.post_json(path, dict(body))
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        message = payload.get("message") if isinstance(payload, dict) else None
        raise ExtractError(
            f"Pinterest did not accept the report request: {message or payload!r:.200}"
        )
    return token


def _poll(
    client: PinterestClient, path: str, token: str, polling: ReportPolling, sleep: Sleep
) -> dict[str, Any] | ReportStatus:
    """Poll until FINISHED (return the status payload) or FAILED/EXPIRED (return the status:
    the report is worth creating again)."""
    delay, waited = polling.first_delay_seconds, 0.0
    while True:
        sleep(delay)
        waited += delay
        delay = min(delay * polling.backoff_factor, polling.max_delay_seconds)
        payload = client.get_json(path, {"token": token})
        raw = payload.get("report_status") if isinstance(payload, dict) else None
        try:
            status = ReportStatus(str(raw))
        except ValueError as exc:
            raise ExtractError(f"unknown report status {raw!r} from Pinterest") from exc
        if status is ReportStatus.FINISHED and isinstance(payload, dict):
            if not isinstance(payload.get("url"), str):
                raise ExtractError("Pinterest says the report is finished but gave no link")
            return payload
        if status in _RECREATED:
            return status
        if status in _HOPELESS:
            raise ExtractError(
                f"{_HOPELESS[status]} (status {status.value}): check the report "
                "parameters and run the extraction again"
            )
        if waited + delay > polling.max_wait_seconds:
            raise ExtractError(
                f"the report was not ready after {waited:.0f} s of polling: run again later"
            )


def _fetch(
    client: PinterestClient, path: str, token: str, polling: ReportPolling, sleep: Sleep
) -> tuple[IO[bytes], int] | ReportStatus:
    """Poll and download; the status when the report failed or expired and must be created
    again."""
    for _ in range(polling.max_link_refreshes + 1):
        status = _poll(client, path, token, polling, sleep)
        if isinstance(status, ReportStatus):
            return status
        # Ownership passes to the ReportResult, which closes it; closed here on failure.
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX_BYTES)  # noqa: SIM115
        downloaded = False
        try:
            size = client.download(status["url"], spool)
            downloaded = True
        except FatalApiError as exc:
            if exc.status not in _LINK_EXPIRED_STATUSES:
                raise
            log.info("report link refused (HTTP %s); polling for a fresh one", exc.status)
            continue
        finally:
            if not downloaded:
                spool.close()
        return spool, size
    raise ExtractError(
        f"the report's download link was refused {polling.max_link_refreshes + 1} times: "
        "run the extraction again"
    )


def run_report(
    client: PinterestClient,
    ad_account_id: str,
    body: Mapping[str, Any],
    *,
    polling: ReportPolling | None = None,
    sleep: Sleep | None = None,
) -> ReportResult:
    """Create an async report for `ad_account_id` with JSON `body` (Pinterest's
    `AdsAnalyticsCreateAsyncRequest`), wait for it and download it."""
    polling = polling or ReportPolling()
    wait = sleep or client.sleep
    path = f"/ad_accounts/{ad_account_id}/reports"
    report_format: Literal["JSON", "CSV"] = (
        "CSV" if str(body.get("report_format", "JSON")).upper() == "CSV" else "JSON"
    )
    outcomes: list[ReportStatus] = []
    for creation in range(1, polling.max_recreates + 2):
        if creation > 1:
            wait(polling.recreate_delay_seconds * 2 ** (creation - 2))
        token = _create(client, path, body)
        fetched = _fetch(client, path, token, polling, wait)
        if not isinstance(fetched, ReportStatus):
            spool, size = fetched
            return ReportResult(
                token=token,
                report_format=report_format,
                size_bytes=size,
                creations=creation,
                _file=spool,
            )
        outcomes.append(fetched)
        log.info("report %s ended %s; creating it again", token[:8], fetched.value)
    ended = ", ".join(status.value for status in outcomes)
    raise ExtractError(
        f"Pinterest could not deliver the report for ad account {ad_account_id} "
        f"{body.get('start_date')}..{body.get('end_date')}: {len(outcomes)} tries ended "
        f"{ended}; run the extraction again later"
    )
