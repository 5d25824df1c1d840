"""Runs, backfill batches and Test Data as Celery tasks for `pinads worker` processes.

With PINADS_BROKER_URL set, `service.run`, `service.backfill` and `service.preview` of saved
sources send a task and wait for its outcome; any number of workers on any number of machines
take them. Without it, nothing here is used.

Delivery is at least once: a task is acknowledged only when it finished (`acks_late`), so one
whose worker died is delivered again (RabbitMQ: at once; Redis: after the visibility timeout).
Each task carries the id of the run it stands for, and a delivery first reads that run's
history:
- never started: run it under that id;
- running in a live process: another delivery has it; try again later (`retry`), so the task
  is not lost if that process dies too;
- finished: done, nothing runs twice;
- interrupted (its process died): run it again as the next attempt (`<id>.1`, `<id>.2`, ...);
  a backfill batch continues from its checkpoints, so no row is written twice.
A task whose source is busy with another run waits the same way.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from celery import Celery, Task
from pydantic import BaseModel, ConfigDict

from pinads.catalog.limits import ASYNC_MAX_RANGE_DAYS
from pinads.errors import PinadsError, StateError
from pinads.runner.core import RunResult
from pinads.runner.preview import PreviewResult
from pinads.runner.run import new_run_id
from pinads.runner.store import SourceStore
from pinads.settings import AppSettings, load_settings
from pinads.state import RunStatus
from pinads.values import DateRange, RunKind

__all__ = [
    "RunRequest",
    "backfill",
    "backfill_batches",
    "celery_app",
    "preview",
    "run",
    "submit",
    "worker_settings",
]

RUN_TASK = "pinads.run"
PREVIEW_TASK = "pinads.preview"
# A busy source (or a delivery of a run another worker is running) is tried again this soon.
BUSY_RETRY_SECONDS = 5.0


class RunRequest(BaseModel):
    """One run as a task's argument (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    source: str
    kind: RunKind
    start: date | None = None
    end: date | None = None
    restart: bool = False
    today: date | None = None

    @property
    def period(self) -> DateRange | None:
        if self.start is None or self.end is None:
            return None
        return DateRange(start=self.start, end=self.end)


class _BusyError(Exception):
    """The run cannot start now: its source is held by another live run."""


# -- the app ---------------------------------------------------------------------------------

_APPS: dict[tuple[str, str | None, float, str], Celery] = {}
_APPS_LOCK = threading.Lock()


def celery_app(settings: AppSettings) -> Celery:
    """The Celery app of `settings`' broker (one per process and broker), tasks registered."""
    if not settings.broker_url:
        raise StateError("no broker: set PINADS_BROKER_URL (e.g. redis://host:6379/0)")
    key = (
        settings.broker_url,
        settings.shared_redis_url,
        settings.broker_visibility_timeout,
        settings.redis_prefix,
    )
    with _APPS_LOCK:
        app = _APPS.get(key)
        if app is None:
            app = _make_app(settings)
            _APPS[key] = app
        return app


def _make_app(settings: AppSettings) -> Celery:
    visibility = settings.broker_visibility_timeout
    prefix = settings.redis_prefix
    app = Celery(
        "pinads", broker=settings.broker_url, backend=settings.shared_redis_url or "rpc://"
    )
    app.conf.update(
        task_default_queue=prefix,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=86400,
        # A task is acknowledged when it finished, and given back when its worker was lost.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            "global_keyprefix": f"{prefix}:",
            # Look for tasks of dead workers often enough for a short visibility timeout.
            "unacked_restore_interval": max(1, min(10, int(visibility / 4))),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"global_keyprefix": f"{prefix}:"},
        worker_hijack_root_logger=False,
    )
    app.task(name=RUN_TASK, bind=True, max_retries=None)(_run_task)
    app.task(name=PREVIEW_TASK, bind=True, max_retries=None)(_preview_task)
    return app


# -- the worker's side -------------------------------------------------------------------------


def _run_task(task: Task, request: dict[str, Any]) -> dict[str, Any]:
    try:
        return perform(load_settings(), RunRequest.model_validate(request))
    except _BusyError as busy:
        # Sooner than the visibility timeout: a retry held past it would be delivered twice.
        countdown = min(BUSY_RETRY_SECONDS, load_settings().broker_visibility_timeout / 2)
        raise task.retry(countdown=countdown, exc=StateError(str(busy))) from busy


def _preview_task(task: Task, source: str, start: str | None, end: str | None) -> dict[str, Any]:
    from pinads.runner import service

    period = (
        DateRange(start=date.fromisoformat(start), end=date.fromisoformat(end))
        if (start and end)
        else None
    )
    try:
        result = service.preview(source, settings=worker_settings(load_settings()), period=period)
    except PinadsError as exc:
        return {"error": str(exc)}
    return {"result": result.model_dump(mode="json")}


def worker_settings(settings: AppSettings) -> AppSettings:
    """The settings a worker runs with: no broker (what it runs, it runs itself) but the same
    shared Redis, so its calls draw from the budget every other process draws from."""
    return settings.model_copy(update={"broker_url": None, "redis_url": settings.shared_redis_url})


def _attempts(store: SourceStore, run_id: str) -> tuple[str, Any]:
    """The latest attempt of `run_id` that history knows, and its record (None: no attempt)."""
    latest: tuple[str, Any] = (run_id, None)
    attempt = 0
    while True:
        attempt_id = run_id if attempt == 0 else f"{run_id}.{attempt}"
        record = store.db.runs.find(attempt_id)
        if record is None:
            return latest
        latest = (attempt_id, record)
        attempt += 1


def _next_attempt(store: SourceStore, run_id: str) -> str | dict[str, Any]:
    """The id to run under, or the outcome when an attempt already finished."""
    latest_id, record = _attempts(store, run_id)
    if record is None:
        return latest_id
    if record.status == RunStatus.RUNNING:
        dead = {run.id for run in store.db.runs.dead_runs(record.source_id)}
        if latest_id not in dead:
            raise _BusyError(f"run {latest_id} is running in another process")
    if record.status in (RunStatus.RUNNING, RunStatus.INTERRUPTED):
        attempt = 0 if latest_id == run_id else int(latest_id.rsplit(".", 1)[1])
        return f"{run_id}.{attempt + 1}"
    return {"run_id": latest_id, "status": record.status.value, "error": record.error}


def perform(settings: AppSettings, request: RunRequest) -> dict[str, Any]:
    """Run `request` here (a worker), once however often it is delivered; the outcome as JSON:
    `result` (a RunResult) or `error`, or `status` for a run an earlier delivery finished."""
    from pinads.runner import service

    settings = worker_settings(settings)
    store = SourceStore(settings)
    try:
        attempt = _next_attempt(store, request.run_id)
    finally:
        store.close()
    if isinstance(attempt, dict):
        return attempt
    try:
        result = service.run(
            request.source,
            settings=settings,
            kind=request.kind,
            period=request.period,
            today=request.today,
            restart=request.restart and attempt == request.run_id,
            run_id=attempt,
        )
    except StateError as exc:
        # Refused (the source held, maybe by another delivery of this run that took the lock
        # before recording the run) or cut short: history says which.
        return _after_refusal(settings, request.run_id, attempt, exc)
    except PinadsError as exc:
        return {"run_id": attempt, "error": str(exc)}
    return {"run_id": attempt, "result": result.model_dump(mode="json")}


def _after_refusal(
    settings: AppSettings, run_id: str, attempt: str, exc: StateError
) -> dict[str, Any]:
    """A live attempt elsewhere or a busy source: retry later (`_BusyError`); an attempt
    finished meanwhile: its outcome; else this attempt's error."""
    store = SourceStore(settings)
    try:
        latest = _next_attempt(store, run_id)  # raises _BusyError while one is live
        if store.db.runs.find(attempt) is None:  # never started here: the source was busy
            raise _BusyError(str(exc)) from exc
    finally:
        store.close()
    if isinstance(latest, dict):
        return latest
    return {"run_id": attempt, "error": str(exc)}


# -- the sender's side -------------------------------------------------------------------------


def submit(settings: AppSettings, request: RunRequest) -> Any:
    """Send a run to the workers; its AsyncResult."""
    return celery_app(settings).send_task(RUN_TASK, args=[request.model_dump(mode="json")])


def _outcome(settings: AppSettings, payload: dict[str, Any], source: str) -> RunResult:
    if "result" in payload:
        return RunResult.model_validate(payload["result"])
    if payload.get("error"):
        raise StateError(f"run {payload.get('run_id')} of {source!r} failed: {payload['error']}")
    # A later delivery found the run finished by an earlier one and its answer replaced the
    # earlier one's: what run history recorded.
    return _recorded_result(settings, str(payload.get("run_id")), source)


def _recorded_result(settings: AppSettings, run_id: str, source: str) -> RunResult:
    store = SourceStore(settings)
    try:
        record = store.db.runs.find(run_id)
        destination = store.get(source).destination  # as saved: its secrets redacted
    finally:
        store.close()
    if record is None or record.status != RunStatus.SUCCEEDED:
        status = record.status.value if record else "missing"
        raise StateError(
            f"run {run_id} of {source!r} ended {status}: `pinads runs {source}` shows why"
        )
    return RunResult(
        run_id=run_id,
        source=source,
        kind=RunKind(record.kind),
        start=record.range_start,
        end=record.range_end,
        table=source,
        destination=destination,
        rows_written=record.rows_written,
        steps=0,
        steps_skipped=0,
        api_calls=record.api_calls,
        planned_calls=0,
        rate_limited=record.rate_limited_waits,
        waited_seconds=0.0,
        duration_seconds=record.duration_seconds or 0.0,
    )


def run(
    settings: AppSettings,
    name: str,
    *,
    kind: RunKind,
    period: DateRange | None,
    restart: bool = False,
    today: date | None = None,
) -> RunResult:
    """Run a saved source on a worker and wait for it."""
    request = RunRequest(
        run_id=new_run_id(),
        source=name,
        kind=kind,
        start=period.start if period else None,
        end=period.end if period else None,
        restart=restart,
        today=today,
    )
    return _outcome(settings, submit(settings, request).get(), name)


def backfill_batches(period: DateRange) -> list[DateRange]:
    """`period` cut into batches of at most one async report's range, oldest first."""
    batches: list[DateRange] = []
    start = period.start
    while start <= period.end:
        end = min(start + timedelta(days=ASYNC_MAX_RANGE_DAYS - 1), period.end)
        batches.append(DateRange(start=start, end=end))
        start = end + timedelta(days=1)
    return batches


def backfill(
    settings: AppSettings,
    name: str,
    *,
    period: DateRange,
    restart: bool = False,
    today: date | None = None,
) -> RunResult:
    """A backfill as one task per batch (workers take the batches of different sources side
    by side; one source's batches queue for its run lock); waits for all and sums them up."""
    pending = [
        submit(
            settings,
            RunRequest(
                run_id=new_run_id(),
                source=name,
                kind=RunKind.BACKFILL,
                start=batch.start,
                end=batch.end,
                restart=restart,
                today=today,
            ),
        )
        for batch in backfill_batches(period)
    ]
    results = [_outcome(settings, task.get(), name) for task in pending]
    return _sum(results, period)


def _sum(results: list[RunResult], period: DateRange) -> RunResult:
    first = results[0]
    return first.model_copy(
        update={
            "start": period.start,
            "end": period.end,
            **{
                field: sum(getattr(r, field) for r in results)
                for field in (
                    "rows_written",
                    "rows_retrieved",
                    "steps",
                    "steps_skipped",
                    "steps_reset",
                    "api_calls",
                    "planned_calls",
                    "rate_limited",
                )
            },
            "waited_seconds": round(sum(r.waited_seconds for r in results), 3),
            "duration_seconds": round(max(r.duration_seconds for r in results), 3),
        }
    )


def preview(
    settings: AppSettings, name: str, *, period: DateRange | None, today: date | None = None
) -> PreviewResult:
    """Test Data of a saved source, on a worker."""
    del today  # the worker's own date: it is the one that calls Pinterest
    args = [name, str(period.start) if period else None, str(period.end) if period else None]
    payload = celery_app(settings).send_task(PREVIEW_TASK, args=args).get()
    if "error" in payload:
        raise StateError(str(payload["error"]))
    return PreviewResult.model_validate(payload["result"])
