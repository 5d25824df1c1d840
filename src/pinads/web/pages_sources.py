"""Sources pages: the list (dataset, accounts, schedule, last run, next run) and a source's
detail (settings, run history, Run now, backfill with live progress, edit, delete)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from pinads.auth import Authorizer
from pinads.errors import ConfigError
from pinads.runner import service as runs
from pinads.sources import SourceConfig
from pinads.web.common import (
    audit,
    checked_form,
    context_of,
    flash,
    for_web,
    form_text,
    page_user,
    redirect,
    render,
)
from pinads.web.context import WebContext
from pinads.web.pages_auth import authorizer_warnings
from pinads.web.views import (
    SourceView,
    busy_job,
    earliest_backfill_day,
    source_view,
    source_views,
    start_backfill,
    start_run,
)

__all__ = ["known_source", "router", "settings_rows"]

router = APIRouter(include_in_schema=False)
# The settings card's labels where the config key does not read well as words.
_LABELS = {
    "date_range": "Each run reads",
    "metadata": "Metadata columns",
    "allow_empty": "Allow Empty Data Extractions",
    "include_archived": "Include archived",
    "conversion_report_time": "Conversion report time",
}
_SHOWN_ABOVE = ("name", "dataset", "authorizer", "accounts", "schedule")


def known_source(ctx: WebContext, name: str) -> SourceConfig:
    """The saved source, or a 404 page that says where the sources are."""
    if name not in {c.name for c in runs.list_sources(settings=ctx.settings)}:
        raise HTTPException(
            status_code=404,
            detail=f"no source named {name!r}: open Sources to see yours, or use Create Source",
        )
    return runs.get_source(name, settings=ctx.settings)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def settings_rows(view: SourceView) -> list[tuple[str, str, str]]:
    """(label, value, help) for each config key not already shown at the top of the card."""
    fields = SourceConfig.model_fields
    return [
        (
            _LABELS.get(key, key.replace("_", " ").capitalize()),
            _shown(value),
            for_web(fields[key].description or "") if key in fields else "",
        )
        for key, value in view.config.items()
        if key not in _SHOWN_ABOVE
    ]


def _authorizer_alerts(ctx: WebContext, used: set[str]) -> list[tuple[Authorizer, str]]:
    """Expiry and revocation warnings of the authorizers that sources use: where an analyst
    looks every day, before the runs start failing."""
    now = datetime.now(UTC)
    with ctx.authorizers() as service:
        return [
            (a, warning)
            for a in service.list()
            if a.label in used or str(a.id) in used
            for warning in authorizer_warnings(a, now=now)
        ]


@router.get("/sources")
def sources_page(request: Request, user: str = Depends(page_user)) -> Response:
    ctx = context_of(request)
    configs = runs.list_sources(settings=ctx.settings)
    views = source_views(ctx, configs)
    alerts = _authorizer_alerts(ctx, {c.authorizer for c in configs}) if configs else []
    names = {
        label: ctx.account_names.of(label, ctx.list_accounts)
        for label in {c.authorizer for c in configs}
    }
    return render(request, "sources.html", sources=views, alerts=alerts, names=names)


def _source_page(
    request: Request,
    name: str,
    *,
    job: str = "",
    backfill: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The source page; `backfill` is a refused backfill form (its days and the error)."""
    ctx = context_of(request)
    config = known_source(ctx, name)
    view = source_view(ctx, config)
    history = runs.list_runs(name, limit=50, settings=ctx.settings)
    running = [j.view() for j in ctx.jobs.for_source(name) if j.status == "running"]
    shown = ctx.jobs.get(job) if job else None
    jobs = [shown.view()] if shown is not None and shown.source == name else running
    today = datetime.now(UTC).date()
    earliest = earliest_backfill_day(config, today=today)
    return render(
        request,
        "source.html",
        status_code=status_code,
        s=view,
        settings=settings_rows(view),
        runs=history,
        # Started here, not yet in history (its first step records it): shown as running.
        pending=[] if any(r.status == "running" for r in history) else running,
        jobs=jobs,
        today=today.isoformat(),
        earliest=earliest.isoformat() if earliest else "",
        backfill=backfill or {},
        names=ctx.account_names.of(config.authorizer, ctx.list_accounts),
    )


@router.get("/sources/{name}")
def source_page(
    request: Request, name: str, job: str = "", user: str = Depends(page_user)
) -> Response:
    return _source_page(request, name, job=job)


def _busy_message(ctx: WebContext, name: str) -> str | None:
    """Why Run now cannot start now, in the page's words (a run of this source is going)."""
    job = busy_job(ctx, name)
    if job is not None:
        what = {"backfill": "A backfill", "rebuild": "A rebuild of the table"}.get(
            job.kind, "A run"
        )
        return (
            f"Run now did not start: {what} of {name} has been running since "
            f"{job.started_at:%H:%M} UTC and a source runs one at a time. Press Run now "
            "again once it has ended (its progress is below)."
        )
    recent = runs.list_runs(name, limit=5, settings=ctx.settings)
    if any(r.status == "running" for r in recent):
        return (
            f"Run now did not start: a run of {name} started elsewhere (the scheduler or the "
            "command line) is still going, and a source runs one at a time. Press Run now "
            "again once the run history shows it ended."
        )
    return None


@router.post("/sources/{name}/run")
async def run_now(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    ctx = context_of(request)
    known_source(ctx, name)
    busy = _busy_message(ctx, name)
    if busy is not None:
        flash(request, busy, kind="warning")
        return redirect(f"/sources/{name}")
    job = start_run(ctx, name)
    audit(request, user, "run.start", name, job=job.id)
    flash(request, "Run started: its progress is below.", kind="success")
    return redirect(f"/sources/{name}?job={job.id}")


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{label} {text!r} is not a date: use YYYY-MM-DD") from exc


@router.post("/sources/{name}/backfill")
async def backfill(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    ctx = context_of(request)
    known_source(ctx, name)
    typed = {"start": form_text(form, "start"), "end": form_text(form, "end")}
    restart = form_text(form, "restart") == "1"
    try:
        start = _day(typed["start"], "the start")
        end = _day(typed["end"], "the end") if typed["end"] else None
        busy = busy_job(ctx, name)
        if busy is not None:
            raise ConfigError(
                f"a {busy.kind} of {name} is running (since {busy.started_at:%H:%M} UTC): "
                "start the backfill once it has ended"
            )
        job = start_backfill(ctx, name, start=start, end=end, restart=restart)
    except ConfigError as exc:
        error = {**typed, "error": for_web(str(exc)), "restart": "1" if restart else ""}
        return _source_page(request, name, backfill=error, status_code=400)
    audit(request, user, "backfill.start", name, job=job.id, start=start, end=end, restart=restart)
    flash(request, "Backfill started: its progress is below.", kind="success")
    return redirect(f"/sources/{name}?job={job.id}")


@router.post("/sources/{name}/delete")
async def delete(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    ctx = context_of(request)
    known_source(ctx, name)
    runs.delete_source(name, settings=ctx.settings)
    audit(request, user, "source.delete", name)
    flash(request, f"Source {name} deleted (its table stays in the destination).", kind="success")
    return redirect("/sources")
