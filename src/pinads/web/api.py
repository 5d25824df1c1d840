"""The JSON API under /api (its OpenAPI document is /api/openapi.json)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pinads.api import PRODUCTION_API_URL
from pinads.auth import AdAccount, Authorizer, RevokeResult, TestReport
from pinads.catalog import (
    DATASETS,
    Granularity,
    dataset_details,
    dataset_summary,
    search_datasets,
    validate_selection,
)
from pinads.errors import ConfigError
from pinads.runner import PreviewResult, RunRecord
from pinads.runner import service as runs
from pinads.runner.alerts import watch_authorizers
from pinads.sources.config import SourceConfig
from pinads.values import DateRange
from pinads.web.access import api_access, caller_of
from pinads.web.api_docs import ERROR_RESPONSES, SOURCE_BODY
from pinads.web.audit import MAX_PAGE, AuditPage
from pinads.web.common import audit, context_of
from pinads.web.jobs import JobView
from pinads.web.views import (
    SourceView,
    check_destination,
    match_reason,
    source_view,
    source_views,
    start_backfill,
    start_rebuild,
    start_run,
)

__all__ = ["router"]

router = APIRouter(prefix="/api", dependencies=[Depends(api_access)], responses=ERROR_RESPONSES)
_MAX_NAME = 200


class Me(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    username: str
    role: str


class NewAuthorizerBody(BaseModel):
    """Import an existing refresh token (the browser's OAuth flow is on the Authorizers page)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    client_id: str = Field(min_length=1, max_length=_MAX_NAME)
    client_secret: SecretStr
    refresh_token: SecretStr
    api_url: str = Field(default=PRODUCTION_API_URL, max_length=500)
    label: str | None = Field(default=None, max_length=64)
    rate_tier: str = Field(default="standard", max_length=16)


class RenameBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str = Field(min_length=1, max_length=64)


class SelectionBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    dataset: str = Field(max_length=_MAX_NAME)
    attributes: list[str] = Field(default_factory=list, max_length=500)
    metrics: list[str] = Field(default_factory=list, max_length=1000)
    granularity: str = Field(default=Granularity.DAY.value, max_length=16)


class ProblemView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    field: str
    message: str
    suggestions: list[str]


class SelectionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    ok: bool
    problems: list[ProblemView]


class PreviewBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: dict[str, Any] = Field(description="A source config document (as `sources show`).")
    start: date | None = None
    end: date | None = None


class BackfillBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    start: date
    end: date | None = None
    restart: bool = Field(
        default=False,
        description="Discard the saved plan and progress of this range: every batch runs again.",
    )


def _audit(request: Request, action: str, target: str, **details: Any) -> None:
    audit(request, str(request.state.api_user), action, target, **details)


def _authorizer_id(request: Request, ref: str) -> int:
    with context_of(request).authorizers() as service:
        for authorizer in service.list():
            if ref in (authorizer.label, str(authorizer.id)):
                return authorizer.id
    raise HTTPException(status_code=404, detail=f"no authorizer {ref!r}")


def _source_name(request: Request, name: str) -> str:
    known = {c.name for c in runs.list_sources(settings=context_of(request).settings)}
    if name not in known:
        raise HTTPException(status_code=404, detail=f"no source named {name!r}")
    return name


@router.get("/audit", tags=["meta"])
def audit_log(
    request: Request,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    before: int | None = Query(default=None, description="`next_before` of the last page."),
    actor: str | None = Query(default=None, max_length=64),
    action: str | None = Query(
        default=None, max_length=64, description="e.g. login or source.delete"
    ),
) -> AuditPage:
    """The audit log, newest first: logins, logouts, password changes and every change made
    through the pages, this API and the command line."""
    return context_of(request).audit.page(limit=limit, before=before, actor=actor, action=action)


@router.get("/me", tags=["meta"])
def me(request: Request) -> Me:
    """Who the credentials belong to, and the role they act with."""
    caller = caller_of(request)
    assert caller is not None  # the router's access check found it
    return Me(username=caller.username, role=caller.role.value)


# -- authorizers ------------------------------------------------------------------------------


@router.get("/authorizers", tags=["authorizers"])
def list_authorizers(request: Request) -> list[Authorizer]:
    with context_of(request).authorizers() as service:
        return service.list()


@router.post("/authorizers", tags=["authorizers"], status_code=201)
def import_authorizer(request: Request, body: NewAuthorizerBody) -> Authorizer:
    """Save an authorizer from an existing refresh token (rotated at once)."""
    with context_of(request).authorizers() as service:
        authorizer = service.add_with_refresh_token(
            client_id=body.client_id,
            client_secret=body.client_secret,
            refresh_token=body.refresh_token,
            api_url=body.api_url,
            label=body.label,
            rate_tier=body.rate_tier,
        )
    _audit(request, "authorizer.add", authorizer.label, id=authorizer.id)
    return authorizer


@router.get("/authorizers/{ref}", tags=["authorizers"])
def get_authorizer(request: Request, ref: str) -> Authorizer:
    with context_of(request).authorizers() as service:
        return service.get(_authorizer_id(request, ref))


@router.patch("/authorizers/{ref}", tags=["authorizers"])
def rename_authorizer(request: Request, ref: str, body: RenameBody) -> Authorizer:
    authorizer_id = _authorizer_id(request, ref)
    with context_of(request).authorizers() as service:
        old = service.get(authorizer_id).label
        renamed = service.rename(authorizer_id, body.label)
    _audit(request, "authorizer.rename", renamed.label, **{"from": old})
    return renamed


@router.delete("/authorizers/{ref}", tags=["authorizers"], status_code=204)
def delete_authorizer(request: Request, ref: str) -> None:
    """Refused (400) while a source uses the authorizer."""
    authorizer_id = _authorizer_id(request, ref)
    with context_of(request).authorizers() as service:
        label = service.get(authorizer_id).label
        service.delete(authorizer_id)
    _audit(request, "authorizer.delete", label)


@router.post("/authorizers/{ref}/test", tags=["authorizers"])
def test_authorizer(request: Request, ref: str) -> TestReport:
    with context_of(request).authorizers() as service:
        return service.test(_authorizer_id(request, ref))


@router.post("/authorizers/{ref}/revoke", tags=["authorizers"])
def revoke_authorizer(request: Request, ref: str) -> RevokeResult:
    authorizer_id = _authorizer_id(request, ref)
    with context_of(request).authorizers() as service:
        result = service.revoke(authorizer_id)
        label = service.get(authorizer_id).label
    _audit(request, "authorizer.revoke", label, at_pinterest=result.revoked_at_pinterest)
    watch_authorizers(context_of(request).settings)
    return result


@router.get("/authorizers/{ref}/accounts", tags=["authorizers"])
def authorizer_accounts(request: Request, ref: str) -> list[AdAccount]:
    """The ad accounts the authorizer's user sees, with the user's roles."""
    with context_of(request).authorizers() as service:
        return service.accounts(_authorizer_id(request, ref))


# -- catalog ----------------------------------------------------------------------------------


@router.get("/datasets", tags=["catalog"])
def datasets(q: str = "") -> list[dict[str, Any]]:
    """Datasets matching `q` in name, title, attributes or metrics (all when empty), best
    first; `matched` names the attributes and metrics that matched (empty when the name or
    title did)."""
    query = q[:_MAX_NAME]
    found = search_datasets(query)
    return [{**dataset_summary(d), "matched": match_reason(d, query)} for d in found]


@router.get("/datasets/{name}", tags=["catalog"])
def dataset(name: str) -> dict[str, Any]:
    if name not in DATASETS:
        raise HTTPException(status_code=404, detail=f"no dataset {name!r}: see GET /api/datasets")
    return dataset_details(DATASETS[name])


@router.post("/validate-selection", tags=["catalog"])
def check_selection(body: SelectionBody) -> SelectionResult:
    """Every problem with a dataset + attributes + metrics + granularity choice."""
    problems = validate_selection(
        body.dataset,
        attributes=body.attributes,
        metrics=body.metrics,
        granularity=body.granularity,
    )
    views = [
        ProblemView(field=p.field, message=p.message, suggestions=list(p.suggestions))
        for p in problems
    ]
    return SelectionResult(ok=not views, problems=views)


# -- sources and runs ---------------------------------------------------------------------------


@router.get("/sources", tags=["sources"])
def list_sources(request: Request) -> list[SourceView]:
    ctx = context_of(request)
    return source_views(ctx, runs.list_sources(settings=ctx.settings))


@router.post("/sources", tags=["sources"], status_code=201, openapi_extra=SOURCE_BODY)
def create_source(request: Request, body: dict[str, Any]) -> SourceView:
    """Validate (every problem at once, accounts and roles included), check that the
    destination can be written (as the wizard's Destination step does) and save a source."""
    ctx = context_of(request)

    def check_writable(valid: SourceConfig) -> None:
        # Only once the document is valid: opening a DuckDB destination creates its file.
        check_destination(ctx.settings, valid.destination)

    config = runs.create_source(
        body, settings=ctx.settings, opener=ctx.open_client, before_save=check_writable
    )
    _audit(request, "source.create", config.name)
    return source_view(ctx, config)


@router.get("/sources/{name}", tags=["sources"])
def get_source(request: Request, name: str) -> SourceView:
    ctx = context_of(request)
    return source_view(ctx, runs.get_source(_source_name(request, name), settings=ctx.settings))


_UPDATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobView,
        "description": 'With "rebuild": true, for a source that has written its table: the '
        "rebuild started; poll GET /api/jobs/{id}. The config is saved when the new table is "
        "swapped in.",
    },
}


def _rebuild_flag(body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """The body's `rebuild` (not part of the config) and the rest."""
    rest = {k: v for k, v in body.items() if k != "rebuild"}
    rebuild = body.get("rebuild", False)
    if not isinstance(rebuild, bool):
        raise ConfigError('"rebuild" must be true or false')
    return rebuild, rest


def _update(request: Request, name: str, document: dict[str, Any], *, rebuild: bool) -> Any:
    """Save an edited config; with `rebuild`, start the rebuild its grain change needs."""
    ctx = context_of(request)
    if document.get("name", name) != name:
        raise ConfigError("the document's name differs from the URL's: sources cannot be renamed")
    document = {**document, "name": name}
    if rebuild:
        job = start_rebuild(ctx, document)
        _audit(request, "source.rebuild", name, job=job.id if job is not None else None)
        if job is not None:
            return JSONResponse(job.view().model_dump(mode="json"), status_code=202)
        return source_view(ctx, runs.get_source(name, settings=ctx.settings))
    config, _ = runs.update_source(document, settings=ctx.settings, opener=ctx.open_client)
    _audit(request, "source.update", name)
    return source_view(ctx, config)


@router.put(
    "/sources/{name}",
    tags=["sources"],
    response_model=SourceView,
    responses=_UPDATE_RESPONSES,
    openapi_extra=SOURCE_BODY,
)
def replace_source(request: Request, name: str, body: dict[str, Any]) -> Any:
    """Replace a source's config (validated like a new one). An edit that changes what the
    table's rows are (granularity, dataset, key attributes, attribution settings, fewer
    accounts, destination, ...) is refused (400) once the source has written its table,
    unless the body has `"rebuild": true`."""
    _source_name(request, name)
    rebuild, document = _rebuild_flag(body)
    return _update(request, name, document, rebuild=rebuild)


@router.patch(
    "/sources/{name}",
    tags=["sources"],
    response_model=SourceView,
    responses=_UPDATE_RESPONSES,
)
def patch_source(request: Request, name: str, body: dict[str, Any]) -> Any:
    """Change some keys of a source's config (the others keep their saved values); refused
    and rebuilt like PUT."""
    _source_name(request, name)
    rebuild, changes = _rebuild_flag(body)
    saved = runs.get_source(name, settings=context_of(request).settings).to_document()
    return _update(request, name, {**saved, **changes}, rebuild=rebuild)


@router.delete("/sources/{name}", tags=["sources"], status_code=204)
def delete_source(request: Request, name: str) -> None:
    runs.delete_source(_source_name(request, name), settings=context_of(request).settings)
    _audit(request, "source.delete", name)


@router.get("/sources/{name}/runs", tags=["runs"])
def source_runs(request: Request, name: str, limit: int = 20) -> list[RunRecord]:
    ctx = context_of(request)
    limit = max(1, min(limit, 500))
    return list(runs.list_runs(_source_name(request, name), limit=limit, settings=ctx.settings))


@router.get("/runs", tags=["runs"])
def all_runs(request: Request, limit: int = 20) -> list[RunRecord]:
    limit = max(1, min(limit, 500))
    return list(runs.list_runs(None, limit=limit, settings=context_of(request).settings))


@router.post("/sources/{name}/run", tags=["runs"], status_code=202)
def run_now(request: Request, name: str) -> JobView:
    """Start a manual run in the background; poll GET /api/jobs/{id}."""
    job = start_run(context_of(request), _source_name(request, name))
    _audit(request, "run.start", name, job=job.id)
    return job.view()


@router.post("/sources/{name}/backfill", tags=["runs"], status_code=202)
def backfill(request: Request, name: str, body: BackfillBody) -> JobView:
    """Start a backfill (async reports, resumable) in the background."""
    ctx = context_of(request)
    job = start_backfill(
        ctx, _source_name(request, name), start=body.start, end=body.end, restart=body.restart
    )
    _audit(
        request,
        "backfill.start",
        name,
        job=job.id,
        start=body.start,
        end=body.end,
        restart=body.restart,
    )
    return job.view()


@router.get("/jobs/{job_id}", tags=["runs"])
def job(request: Request, job_id: str) -> JobView:
    found = context_of(request).jobs.get(job_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id!r} (the server restarted?)")
    return found.view()


@router.post("/preview", tags=["sources"])
def preview(request: Request, body: PreviewBody) -> PreviewResult:
    """Test Data: the config on a small range (default its last 7 days), nothing written; when
    there are no rows, `diagnosis` says why."""
    ctx = context_of(request)
    period = None
    if body.start is not None or body.end is not None:
        if body.start is None or body.end is None:
            raise ConfigError("give both start and end, or neither (the last 7 days)")
        period = DateRange(start=body.start, end=body.end)
    return runs.preview(body.source, settings=ctx.settings, opener=ctx.open_client, period=period)
