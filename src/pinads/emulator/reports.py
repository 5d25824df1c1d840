"""Asynchronous reports: `POST /v5/ad_accounts/{id}/reports` (JSON body only) and
`GET ...?token=` (IN_PROGRESS -> FINISHED after `report_polls_until_finished` polls), with a
download link on the emulator that needs no Authorization and expires, like Pinterest's
pre-signed S3 links (link `report_link_ttl_seconds`, report `report_ttl_seconds`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.constants import ANALYTICS_ROLES
from pinads.emulator.guards import guards_of
from pinads.emulator.http import authenticate, emulator_state, json_response, require_account
from pinads.emulator.limits import Guards
from pinads.emulator.params import invalid
from pinads.emulator.reportfiles import render_report
from pinads.emulator.reportstore import ReportJob
from pinads.emulator.schemacheck import schema_errors
from pinads.emulator.spec import operation
from pinads.emulator.state import EmulatorState

__all__ = ["create_report", "get_report"]

_OP = "analytics/create_report"
ASYNC_MAX_DAYS_BACK = 914
ASYNC_MAX_RANGE_DAYS = 186
HOUR_MAX_DAYS_BACK = 8
HOUR_MAX_RANGE_DAYS = 3
PRODUCT_ITEM_MAX_DAYS_BACK = 92
PRODUCT_ITEM_MAX_RANGE_DAYS = 31
# PRODUCT_ITEM reports take no ad filters or ad columns (op description).
_AD_FIELDS = ("ad_ids", "ad_statuses")
_AD_COLUMN_PREFIXES = ("AD_ID", "AD_NAME", "AD_STATUS", "PIN_PROMOTION_", "PIN_ID")


def _limits(body: dict[str, Any]) -> tuple[int, int]:
    """(max days back, max end - start) for the body's granularity and level."""
    if body["granularity"] == "HOUR":
        return HOUR_MAX_DAYS_BACK, HOUR_MAX_RANGE_DAYS
    if str(body["level"]).startswith("PRODUCT_ITEM"):
        return PRODUCT_ITEM_MAX_DAYS_BACK, PRODUCT_ITEM_MAX_RANGE_DAYS
    return ASYNC_MAX_DAYS_BACK, ASYNC_MAX_RANGE_DAYS


def _check_body(body: Any, *, today: date) -> dict[str, Any]:
    if not isinstance(body, dict) or schema_errors(body, operation(_OP)["request_body"]["schema"]):
        raise invalid(_OP)
    try:
        start, end = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
    except ValueError as exc:
        raise invalid(_OP) from exc
    days_back, max_range = _limits(body)
    if start > end or start < today - timedelta(days=days_back) or (end - start).days > max_range:
        raise invalid(_OP)
    level = str(body["level"])
    targeting = level.endswith("_TARGETING")
    if targeting != bool(body.get("targeting_types")):
        raise invalid(_OP)  # *_TARGETING levels need targeting_types; others take none
    if ("start_hour" in body or "end_hour" in body) and body["granularity"] != "HOUR":
        raise invalid(_OP)
    if int(body.get("start_hour", 0)) > int(body.get("end_hour", 23)):
        raise invalid(_OP)
    if level.startswith("PRODUCT_ITEM") and (
        any(field in body for field in _AD_FIELDS)
        or any(str(c).startswith(_AD_COLUMN_PREFIXES) for c in body["columns"])
    ):
        raise invalid(_OP)
    return body


async def create_report(request: Request) -> Response:
    """Starts a report: `{"report_status": "IN_PROGRESS", "token": ..., "message": null}`."""
    info = authenticate(request)
    account = require_account(
        request, info, request.path_params["ad_account_id"], roles=ANALYTICS_ROLES
    )
    state = emulator_state(request)
    if request.query_params:
        raise invalid(_OP)  # Pinterest: JSON body only, query parameters are not supported
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise invalid(_OP)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise invalid(_OP) from exc
    checked = _check_body(body, today=state.today())
    job = state.reports.create(
        account_id=account.id, user_id=info.user_id, request=checked, now=state.now()
    )
    return json_response({"report_status": job.status, "token": job.token, "message": None})


def _finish(state: EmulatorState, job: ReportJob, guards: Guards) -> None:
    """Decide the outcome once the job has been polled enough: FAILED (the faults in force,
    as set at start or through /_emulator/faults) or a rendered file."""
    if guards.report_fails(str(job.number)):
        job.status = "FAILED"
        return
    body, media_type = render_report(
        state.world, job.account_id, job.request, today=state.today_ordinal()
    )
    job.body, job.media_type = body, media_type
    job.status, job.finished_at, job.size = "FINISHED", state.now(), len(body)


def _link(request: Request, state: EmulatorState, job: ReportJob) -> str:
    """A fresh download link (like S3 pre-signing): valid for the link TTL, never past the
    report's own expiry."""
    assert job.finished_at is not None and job.body is not None
    config = state.config
    expires = min(
        state.now() + timedelta(seconds=config.report_link_ttl_seconds),
        job.finished_at + timedelta(seconds=config.report_ttl_seconds),
    )
    key = state.reports.add_file(job.body, media_type=job.media_type, link_expires_at=expires)
    return str(request.base_url).rstrip("/") + f"/_emulator/report-files/{key}"


async def get_report(request: Request) -> Response:
    """`{"report_status", "url", "size"}`; statuses from `BulkReportingJobStatus`."""
    info = authenticate(request)
    account = require_account(
        request, info, request.path_params["ad_account_id"], roles=ANALYTICS_ROLES
    )
    state = emulator_state(request)
    token = request.query_params.get("token")
    if not token:
        raise invalid("analytics/get_report")
    job = state.reports.jobs.get(token)
    if job is None or job.account_id != account.id:
        return json_response({"report_status": "DOES_NOT_EXIST", "url": None, "size": None})
    job.polls += 1
    if job.status == "IN_PROGRESS" and job.polls > state.config.report_polls_until_finished:
        # rendering is CPU-bound
        await run_in_threadpool(_finish, state, job, guards_of(request.app))
    if job.status == "FINISHED" and job.finished_at is not None:
        age = (state.now() - job.finished_at).total_seconds()
        if age >= state.config.report_ttl_seconds:
            job.status, job.body = "EXPIRED", None
    if job.status != "FINISHED":
        return json_response({"report_status": job.status, "url": None, "size": None})
    return json_response(
        {"report_status": "FINISHED", "url": _link(request, state, job), "size": job.size}
    )
