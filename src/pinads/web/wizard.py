"""Create Source wizard: connector and name -> dataset -> account -> attributes and metrics ->
metadata -> snapshot -> destination and write mode -> Test Data -> Save. Also Edit, which walks
the same steps from the saved config."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from pinads.errors import ConfigError, PinadsError
from pinads.runner import PreviewResult
from pinads.runner import service as runs
from pinads.runner.grain import TableGrainError
from pinads.values import DateRange
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
from pinads.web.pages_sources import known_source
from pinads.web.views import start_rebuild
from pinads.web.wizard_columns import edit_columns, is_column_edit
from pinads.web.wizard_secrets import SEALED_KEY, clear_destination, seal_destination
from pinads.web.wizard_steps import (
    NEW_AUTHORIZER,
    STEPS,
    TITLES,
    apply_step,
    check_step,
    step_values,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
# Draft keys that are wizard state, not config.
_UI_KEYS = ("test_start", "test_end", "show_advanced", SEALED_KEY)


def _leave(request: Request, url: str) -> Response:
    """Leave the wizard for `url`: a redirect, or for the pages' script (which posts steps in
    the background, where a redirect would be followed out of sight) the URL to go to."""
    if request.headers.get("X-Pinads-Fetch") == "1":
        return Response(status_code=204, headers={"X-Pinads-Location": url})
    return redirect(url)


def _render_step(
    request: Request,
    *,
    step: str,
    draft: dict[str, Any],
    editing: bool,
    problems: list[str] | None = None,
    query: str = "",
    **extra: Any,
) -> Response:
    ctx = context_of(request)
    values = step_values(ctx, step, draft, query=query)
    return render(
        request,
        "wizard.html",
        step=step,
        steps=STEPS,
        titles=TITLES,
        index=STEPS.index(step),
        draft=draft,
        draft_json=json.dumps(draft),
        editing=editing,
        problems=[for_web(p) for p in problems or []],
        new_authorizer=NEW_AUTHORIZER,
        **values,
        **extra,
    )


@router.get("/sources/new")
def new_source(
    request: Request, resume: int = 0, authorizer: str = "", user: str = Depends(page_user)
) -> Response:
    saved = request.session.pop("wizard_draft", None) if resume else None
    if isinstance(saved, dict):
        draft = dict(saved.get("draft", {}))
        if authorizer:
            draft["authorizer"], draft["accounts"] = authorizer, "all"
        editing = bool(saved.get("editing"))
        return _render_step(request, step="account", draft=draft, editing=editing)
    return _render_step(request, step="connector", draft={}, editing=False)


@router.get("/sources/{name}/edit")
def edit_source(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    config = known_source(context_of(request), name)
    draft = config.to_document()
    draft["show_advanced"] = draft.get("schedule") is not None
    return _render_step(request, step="connector", draft=draft, editing=True)


def _draft_of(form: FormData) -> dict[str, Any]:
    try:
        draft = json.loads(form_text(form, "draft") or "{}")
    except json.JSONDecodeError as exc:
        raise ConfigError("the wizard's state was damaged: start Create Source again") from exc
    if not isinstance(draft, dict):
        raise ConfigError("the wizard's state was damaged: start Create Source again")
    return draft


def config_document(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft as a source config document (wizard-only keys and unset values dropped)."""
    return {k: v for k, v in draft.items() if k not in _UI_KEYS and v is not None}


@router.post("/sources/new")
async def wizard_post(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    draft = _draft_of(form)
    step = form_text(form, "step")
    if step not in STEPS:
        raise ConfigError(f"unknown wizard step {step!r}: start Create Source again")
    editing = form_text(form, "editing") == "1"
    nav = form_text(form, "nav") or "next"
    apply_step(step, form, draft)
    seal_destination(context_of(request), draft)
    if step == "account" and draft.get("authorizer") == NEW_AUTHORIZER:
        draft.pop("authorizer")
        request.session["wizard_draft"] = {"draft": draft, "editing": editing}
        return _leave(request, "/authorizers/new?next=/sources/new%3Fresume%3D1")
    return _navigate(request, form, nav=nav, step=step, draft=draft, editing=editing)


def _navigate(
    request: Request, form: FormData, *, nav: str, step: str, draft: dict[str, Any], editing: bool
) -> Response:
    """Where the pressed button leads, once the step's form is in the draft."""
    if nav == "back":
        previous = STEPS[max(0, STEPS.index(step) - 1)]
        return _render_step(request, step=previous, draft=draft, editing=editing)
    if nav.startswith("goto:") and nav[5:] in STEPS:
        return _goto(request, step=step, target=nav[5:], draft=draft, editing=editing)
    if nav in ("search", "refresh") or (is_column_edit(nav) and step == "columns"):
        edit_columns(nav, draft)  # a chip's remove, a suggestion's Use: same step again
        query = form_text(form, "q")
        return _render_step(request, step=step, draft=draft, editing=editing, query=query)
    if nav == "test":
        return _test(request, draft=draft, editing=editing)
    if nav in ("save", "rebuild"):  # a rebuild: a save that replaces the table (new grain)
        return _save(request, form, draft=draft, editing=editing, rebuild=nav == "rebuild")
    return _next(request, step=step, draft=draft, editing=editing, force=nav == "force")


def _goto(
    request: Request, *, step: str, target: str, draft: dict[str, Any], editing: bool
) -> Response:
    """A click on a step's name: back freely; forward only past steps without problems (an
    edited source has every step filled, so each can be reached at once)."""
    ctx = context_of(request)
    for passed in STEPS[STEPS.index(step) : STEPS.index(target)]:
        problems = check_step(ctx, passed, draft, editing=editing)
        if problems:
            return _render_step(
                request,
                step=passed,
                draft=draft,
                editing=editing,
                problems=problems,
                can_force=passed == "columns",
            )
    return _render_step(request, step=target, draft=draft, editing=editing)


def _next(
    request: Request, *, step: str, draft: dict[str, Any], editing: bool, force: bool
) -> Response:
    problems = check_step(context_of(request), step, draft, editing=editing)
    # Incompatible columns are explained, not forced: "Continue anyway" goes on to Test Data,
    # whose diagnosis says what Pinterest will make of them.
    if problems and not (force and step == "columns"):
        return _render_step(
            request,
            step=step,
            draft=draft,
            editing=editing,
            problems=problems,
            can_force=step == "columns",
        )
    following = STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]
    return _render_step(request, step=following, draft=draft, editing=editing)


def _period(draft: dict[str, Any]) -> DateRange | None:
    start, end = draft.get("test_start") or "", draft.get("test_end") or ""
    if not start and not end:
        return None
    try:
        return DateRange(start=date.fromisoformat(start), end=date.fromisoformat(end))
    except ValueError as exc:
        raise ConfigError(
            "the Test Data range needs a start and an end day (YYYY-MM-DD), start first"
        ) from exc


_PROBLEMS = re.compile(r"^(?P<what>.+?) is not valid \(\d+ problems?\): (?P<rest>.+)$", re.S)
# Each listed problem starts "field: "; a "; " inside a problem's own text is not a new one.
_NEXT_PROBLEM = re.compile(r"; (?=[A-Za-z_][\w.\[\]]*: )")


def problem_lines(message: str) -> list[str]:
    """A "source ... is not valid (N problems): a: x; b: y" message as one line per problem."""
    found = _PROBLEMS.match(message)
    if found is None:
        return [message]
    return [f"{found['what']} is not valid:", *_NEXT_PROBLEM.split(found["rest"])]


def _test(request: Request, *, draft: dict[str, Any], editing: bool) -> Response:
    ctx = context_of(request)
    result: PreviewResult | None = None
    problems: list[str] = []
    try:
        result = runs.preview(
            config_document(draft),
            settings=ctx.settings,
            opener=ctx.open_client,
            period=_period(draft),
        )
    except PinadsError as exc:
        problems = problem_lines(str(exc))
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    if result is not None and result.start and result.end:
        draft["test_start"], draft["test_end"] = result.start.isoformat(), result.end.isoformat()
    return _render_step(
        request, step="test", draft=draft, editing=editing, problems=problems, result=result
    )


def _document(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> dict[str, Any]:
    """The config document to save: the draft with its destination's sealed password."""
    document = config_document(draft)
    document["destination"] = clear_destination(ctx, draft, editing=editing)
    return document


def _save(
    request: Request, form: FormData, *, draft: dict[str, Any], editing: bool, rebuild: bool
) -> Response:
    if rebuild and editing:
        return _rebuild(request, form, draft=draft)
    ctx = context_of(request)
    try:
        document = _document(ctx, draft, editing=editing)
        if editing:
            config, _ = runs.update_source(document, settings=ctx.settings, opener=ctx.open_client)
        else:
            config = runs.create_source(document, settings=ctx.settings, opener=ctx.open_client)
    except TableGrainError as exc:  # offer the rebuild, behind a confirmation
        return _render_step(
            request, step="test", draft=draft, editing=editing, problems=[str(exc)], grain=True
        )
    except PinadsError as exc:
        return _render_step(
            request, step="test", draft=draft, editing=editing, problems=problem_lines(str(exc))
        )
    action = "source.update" if editing else "source.create"
    audit(request, page_user(request), action, config.name)
    flash(request, f"Source {config.name} saved.", kind="success")
    return _leave(request, f"/sources/{config.name}")


def _rebuild(request: Request, form: FormData, *, draft: dict[str, Any]) -> Response:
    """Save an edit that changes the table's grain by rebuilding the table (confirmed)."""
    if form_text(form, "rebuild_confirm") != "1":
        return _render_step(
            request,
            step="test",
            draft=draft,
            editing=True,
            problems=['Tick "Rebuild the table" to confirm that its rows are to be replaced.'],
            grain=True,
        )
    ctx = context_of(request)
    try:
        job = start_rebuild(ctx, _document(ctx, draft, editing=True))
    except PinadsError as exc:
        return _render_step(
            request, step="test", draft=draft, editing=True, problems=problem_lines(str(exc))
        )
    name = str(draft.get("name", ""))
    audit(request, page_user(request), "source.rebuild", name, job=job.id if job else None)
    if job is None:
        flash(request, f"Source {name} saved (it had written nothing to rebuild).", kind="success")
        return _leave(request, f"/sources/{name}")
    flash(
        request,
        "Rebuild started: the new config is saved when the new table is complete; until then "
        "the table and the config stay as they were.",
        kind="success",
    )
    return _leave(request, f"/sources/{name}?job={job.id}")
