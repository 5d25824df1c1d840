"""Sources pages: the list (dataset, accounts, schedule, last run, next run) and a source's
detail (settings, run history, Run now, backfill with live progress, edit, delete)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pinads.errors import ConfigError
from pinads.runner import service as runs
from pinads.web.common import (
    checked_form,
    context_of,
    flash,
    form_text,
    page_user,
    redirect,
    render,
)
from pinads.web.views import source_view, start_backfill, start_run

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/sources")
def sources_page(request: Request, user: str = Depends(page_user)) -> Response:
    ctx = context_of(request)
    views = [source_view(ctx, c) for c in runs.list_sources(settings=ctx.settings)]
    return render(request, "sources.html", sources=views)


@router.get("/sources/{name}")
def source_page(
    request: Request, name: str, job: str = "", user: str = Depends(page_user)
) -> Response:
    ctx = context_of(request)
    view = source_view(ctx, runs.get_source(name, settings=ctx.settings))
    history = runs.list_runs(name, limit=50, settings=ctx.settings)
    running = [j.view() for j in ctx.jobs.for_source(name) if j.status == "running"]
    shown = ctx.jobs.get(job) if job else None
    jobs = [shown.view()] if shown is not None and shown.source == name else running
    return render(request, "source.html", s=view, runs=history, jobs=jobs)


@router.post("/sources/{name}/run")
async def run_now(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    ctx = context_of(request)
    runs.get_source(name, settings=ctx.settings)
    job = start_run(ctx, name)
    flash(request, "Run started.", kind="success")
    return redirect(f"/sources/{name}?job={job.id}")


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{label} {text!r} is not a date: use YYYY-MM-DD") from exc


@router.post("/sources/{name}/backfill")
async def backfill(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    start = _day(form_text(form, "start"), "start")
    end_text = form_text(form, "end")
    end = _day(end_text, "end") if end_text else None
    job = start_backfill(context_of(request), name, start=start, end=end)
    flash(request, "Backfill started.", kind="success")
    return redirect(f"/sources/{name}?job={job.id}")


@router.post("/sources/{name}/delete")
async def delete(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    runs.delete_source(name, settings=context_of(request).settings)
    flash(request, f"Source {name} deleted (its table stays in the destination).", kind="success")
    return redirect("/sources")
