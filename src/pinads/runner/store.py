"""Saved sources, run history and run locks, through the control DB (`pinads.state`).

`SourceStore` is the runner's view of it: sources as validated `SourceConfig`s (linked to their
authorizer, so an authorizer in use cannot be deleted), and the `RunLedger` the runner records
every run into, taking the source's run lock first (a second concurrent run, in this process or
another, is refused; a dead run's lock is taken over). It also keeps backfill plans, so a
resumed backfill finishes the steps the interrupted one planned, and marks runs whose process
died "interrupted" whenever history is read, with the command that resumes them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from pinads.errors import ConfigError, StateError
from pinads.extract.plan import Plan, PlanStep
from pinads.extract.plan_document import plan_document, plan_from_document
from pinads.runner.grain import TableGrainError, grain_changes, refusal_message
from pinads.settings import AppSettings
from pinads.sources.config import SourceConfig
from pinads.state import (
    BackfillBatch,
    ControlDB,
    ControlFile,
    DatabaseError,
    RunRepository,
    RunStatus,
    SourceRecord,
    open_control_db,
)
from pinads.state import RunRecord as StateRun
from pinads.values import RunKind

if TYPE_CHECKING:
    from pinads.runner.core import RunResult
    from pinads.runner.preview import PreviewResult

__all__ = ["HEARTBEAT_SECONDS", "RunRecord", "SourceStore", "interrupted_message"]

log = logging.getLogger(__name__)


class RunRecord(BaseModel):
    """One row of run history, with its source's name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source: str
    kind: str
    range_start: date | None
    range_end: date | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_written: int
    api_calls: int
    rate_limited: int
    duration_seconds: float | None
    error: str | None


def interrupted_message(run: StateRun, source: str) -> str:
    """Why a run shows as interrupted, and the command that picks it up again."""
    gone = f"interrupted: its process ({run.host} pid {run.pid}) is gone"
    if run.kind is RunKind.BACKFILL and run.range_start and run.range_end:
        return (
            f"{gone}; `pinads backfill {source} --from {run.range_start} --to {run.range_end}` "
            "resumes it from its checkpoints"
        )
    return f"{gone}; the steps it committed are kept: run it again with `pinads run {source}`"


# Runs whose batches are recorded as they commit (progress shown by `pinads runs`).
_BATCHED = (RunKind.BACKFILL.value, RunKind.REBUILD.value)
HEARTBEAT_SECONDS = 60.0  # well inside the control DB's 10 minutes before a lock counts as stale


class _Heartbeat:
    """Keeps a run's lock fresh from a background thread, so a long step (an async report can
    take many minutes) is never mistaken for a dead run by another host."""

    def __init__(
        self,
        runs: RunRepository,
        *,
        source_id: int,
        run_id: str,
        kind: str,
        control: ControlFile,
    ) -> None:
        self.runs, self.source_id, self.run_id, self.kind = runs, source_id, run_id, kind
        self.control = control
        self.batches = 0
        self.rows = 0  # written by the committed steps (what a failed run leaves behind)
        self.lost: StateError | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name=f"pinads-heartbeat-{run_id[:8]}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            self.lost = self.control.lost(self.run_id)
            if self.lost is not None:  # the run learns it at its next step
                return
            try:
                self.runs.heartbeat(self.source_id, self.run_id)
            except StateError as exc:  # taken over: the run learns it at its next step
                self.lost = exc
                return
            except DatabaseError as exc:  # the DB is briefly away: try next beat
                log.warning("run %s: heartbeat failed (%s)", self.run_id, type(exc).__name__)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


class SourceStore:
    """Sources, runs and run locks in the control DB; also the runner's `RunLedger`."""

    def __init__(self, settings: AppSettings) -> None:
        settings.ensure_home()
        self.db: ControlDB = open_control_db(settings)
        self._live: dict[str, _Heartbeat] = {}
        self._held: dict[str, int] = {}  # run id -> source id: locks taken before `begin`

    def close(self) -> None:
        for beat in self._live.values():
            beat.close()
        for run_id in list(self._held):
            self.release(run_id)
        self.db.close()

    # -- sources ---------------------------------------------------------------------------

    def _authorizer_id(self, ref: str) -> int | None:
        found = self.db.authorizers.find_optional(ref)
        if found is None and ref.isdigit():
            try:
                return self.db.authorizers.get(int(ref)).id
            except ConfigError:
                return None
        return found.id if found is not None else None

    def _record(self, name: str) -> SourceRecord | None:
        try:
            return self.db.sources.get(name)
        except ConfigError:
            return None

    def save(
        self,
        config: SourceConfig,
        *,
        replace: bool = False,
        rebuilt: bool = False,
        before_write: Callable[[SourceConfig], None] | None = None,
    ) -> None:
        """Save a new source, or replace a saved one's config (`replace`). A replacement
        that changes the grain of the table the source has written is refused
        (TableGrainError), unless the table was just `rebuilt` with this config.
        `before_write` runs once every refusal of the store's own has passed."""
        document = config.to_document()
        authorizer_id = self._authorizer_id(config.authorizer)
        record = self._record(config.name)
        if record is not None and not replace:
            raise ConfigError(
                f"a source named {config.name!r} exists: choose another name, or use "
                f"`pinads sources edit {config.name}`"
            )
        if record is not None and not rebuilt:
            self._refuse_grain_change(record, config)
        if before_write is not None:
            before_write(config)
        if record is None:
            self.db.sources.create(config.name, document, authorizer_id=authorizer_id)
        else:
            self.db.sources.update(config.name, document, authorizer_id=authorizer_id)

    def _refuse_grain_change(self, record: SourceRecord, config: SourceConfig) -> None:
        saved = {**record.config, "destination": self.db.sources.destination(record)}
        changes = grain_changes(SourceConfig.model_validate(saved), config)
        if changes and self.written_span(record.name)[0]:
            raise TableGrainError(refusal_message(record.name, changes), changes=changes)

    def written_span(self, name: str) -> tuple[bool, date | None, date | None]:
        """Whether the source's runs may have written its table, and the first and last day
        they read (None when no run says: an entity dataset)."""
        source_id = self._existing(name).id
        self._reap(source_id)
        return self.db.runs.written_span(source_id)

    def _existing(self, name: str) -> SourceRecord:
        record = self._record(name) if not name.isdigit() else None
        if record is None:
            known = ", ".join(self.names()) or "none yet"
            raise ConfigError(
                f"no source named {name!r} (sources: {known}); create one with "
                "`pinads sources create`"
            )
        return record

    def get(self, name: str) -> SourceConfig:
        return SourceConfig.model_validate(self._existing(name).config)

    def destination_url(self, name: str) -> str:
        """The source's destination with its secrets decrypted: only for opening it (what
        `get` and `list` return shows `***` instead)."""
        return self.db.sources.destination(self._existing(name))

    def resolve_destination(self, name: str, url: str) -> str:
        """`url` with `***` replaced by the saved secrets of source `name` (an edit that sends
        the redacted URL back keeps the password)."""
        return self.db.sources.resolve_destination(name, url)

    def names(self) -> list[str]:
        return [record.name for record in self.db.sources.all()]

    def list(self) -> list[SourceConfig]:
        return [SourceConfig.model_validate(r.config) for r in self.db.sources.all()]

    def delete(self, name: str) -> None:
        self.db.sources.delete(self._existing(name).name)

    # -- runs (RunLedger) ------------------------------------------------------------------

    def begin(
        self, *, source: str, kind: str, run_id: str, start: date | None, end: date | None
    ) -> None:
        source_id = self._held.pop(run_id, None)
        if source_id is None:  # not held yet: take the lock now
            source_id = self._existing(source).id
            self._take_lock(source, source_id, run_id)
        self.db.runs.start(
            source_id, kind=RunKind(kind), range_start=start, range_end=end, run_id=run_id
        )
        self._live[run_id] = _Heartbeat(
            self.db.runs,
            source_id=source_id,
            run_id=run_id,
            kind=kind,
            control=ControlFile(self.db.engine.url),
        )

    def hold(self, source: str, run_id: str | None = None) -> str:
        """Take the source's run lock for a run about to begin, and return that run's id
        (`begin` with it records the run): before the run opens its destination, so of two
        runs racing for one source, the loser is refused as "already running" and does not
        touch the destination at all."""
        source_id = self._existing(source).id
        run_id = run_id or uuid.uuid4().hex[:16]
        self._take_lock(source, source_id, run_id)
        self._held[run_id] = source_id
        return run_id

    def release(self, run_id: str) -> None:
        """Free a lock `hold` took for a run that never began (its destination check failed)."""
        source_id = self._held.pop(run_id, None)
        if source_id is not None:
            self.db.runs.release_run_lock(source_id, run_id)

    def _take_lock(self, source: str, source_id: int, run_id: str) -> None:
        self._reap(source_id)
        try:
            self.db.runs.acquire_run_lock(source_id, run_id)
        except StateError as exc:
            raise self._running(source, source_id) from exc

    def _running(self, source: str, source_id: int) -> StateError:
        holder = self.db.runs.lock_of(source_id)
        who = (
            f"run {holder.run_id}, pid {holder.pid} on {holder.host}, since "
            f"{holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
            if holder is not None
            else "another run holds its lock"
        )
        return StateError(
            f"source {source!r} is already running ({who}): wait for it to finish - "
            f"`pinads runs {source}` shows it"
        )

    def _reap(self, source_id: int | None = None) -> None:
        """Mark the runs whose process died interrupted (and free their locks), with the
        command that resumes them: what history shows, in the CLI and the web UI alike."""
        dead = self.db.runs.dead_runs(source_id)
        if not dead:
            return
        names = {record.id: record.name for record in self.db.sources.all()}
        for run in dead:
            name = names.get(run.source_id, str(run.source_id))
            self.db.runs.interrupt(run.id, error=interrupted_message(run, name))

    # -- backfill plans --------------------------------------------------------------------

    def stored_plan(self, *, source: str, start: date, end: date, basis: str) -> Plan | None:
        stored = self.db.plans.latest_backfill(self._existing(source).id, start=start, end=end)
        if stored is None or stored.basis != basis:
            return None
        return plan_from_document(stored.plan)

    def discard_plans(self, *, source: str, start: date, end: date) -> set[str]:
        source_id = self._existing(source).id
        steps: set[str] = set()
        for document in self.db.plans.discard_backfills(source_id, start=start, end=end):
            plan = plan_from_document(document)
            if plan is not None:
                steps |= {step.step_id for step in plan.steps}
        return steps

    def plan_made(self, run_id: str, plan: Plan, *, basis: str) -> None:
        self.db.plans.save(run_id, basis=basis, plan=plan_document(plan))

    def unfinished_backfill_end(self, source: str, start: date) -> date | None:
        """The last day of the source's latest backfill from `start` if it did not finish (a
        backfill without `--to` resumed on a later day continues that range)."""
        source_id = self._existing(source).id
        self._reap(source_id)
        stored = self.db.plans.latest_backfill(source_id, start=start)
        if stored is None or stored.run.status is RunStatus.SUCCEEDED:
            return None
        return stored.run.range_end

    def rebuild_left_behind(self, source: str, run_id: str) -> bool:
        """Whether the source's last run before `run_id` was a rebuild that did not finish:
        if its process was killed, its unfinished new table is still in the destination,
        where a replace run would take it for its own."""
        source_id = self._existing(source).id
        self._reap(source_id)
        for run in self.db.runs.recent(source_id, limit=50):
            if run.id == run_id or run.kind is RunKind.PREVIEW:
                continue
            return run.kind is RunKind.REBUILD and run.status is not RunStatus.SUCCEEDED
        return False

    def check_alive(self, run_id: str) -> None:
        """Raise StateError if the run lost its lock or its control DB file."""
        beat = self._live.get(run_id)
        if beat is not None and (lost := beat.lost or beat.control.lost(run_id)) is not None:
            raise lost

    def step_done(self, run_id: str, step: PlanStep, rows: int) -> None:
        """After each committed step: fail the run if its lock was taken over; for backfills
        and rebuilds, record the batch's progress (shown by `pinads runs`; the data checkpoint
        itself is committed with the rows in the destination)."""
        self.check_alive(run_id)
        beat = self._live.get(run_id)
        if beat is None:
            return
        beat.rows += rows
        if beat.kind in _BATCHED and step.start and step.end:
            beat.batches += 1
            self.db.runs.record_batch(
                BackfillBatch(
                    run_id=run_id,
                    batch=beat.batches,
                    source_id=beat.source_id,
                    range_start=step.start,
                    range_end=step.end,
                    status="done",
                    rows_written=rows,
                    updated_at=datetime.now(UTC),
                )
            )

    def finish(
        self,
        run_id: str,
        *,
        result: RunResult | None,
        error: str | None,
        api_calls: int = 0,
        rate_limited: int = 0,
    ) -> None:
        """Record the outcome; a failed run keeps the rows its committed steps wrote and the
        calls it made."""
        beat = self._live.pop(run_id, None)
        if beat is not None:
            beat.close()
            lost = beat.control.lost(run_id)
            if lost is not None:  # recording the end would go into a deleted file
                raise lost
        self.db.runs.finish(
            run_id,
            status=RunStatus.FAILED if error else RunStatus.SUCCEEDED,
            rows_written=result.rows_written if result else (beat.rows if beat else 0),
            api_calls=result.api_calls if result else api_calls,
            rate_limited_waits=result.rate_limited if result else rate_limited,
            error=error,
        )

    def record_preview(self, result: PreviewResult, *, api_calls: int) -> None:
        """A Test Data run in the history (no lock: it writes nothing)."""
        source_id = self._existing(result.source).id
        run = self.db.runs.start(
            source_id, kind=RunKind.PREVIEW, range_start=result.start, range_end=result.end
        )
        self.db.runs.finish(
            run.id,
            status=RunStatus.SUCCEEDED if result.has_data else RunStatus.FAILED,
            rows_written=0,
            api_calls=api_calls,
            error=None if result.has_data else result.message,
        )

    def runs(self, source: str | None = None, *, limit: int = 20) -> Sequence[RunRecord]:
        """Recent runs, newest first; runs whose process died show (and are marked)
        interrupted."""
        source_id = self._existing(source).id if source is not None else None
        self._reap(source_id)
        names = {record.id: record.name for record in self.db.sources.all()}
        return [_view(run, names) for run in self.db.runs.recent(source_id, limit=limit)]


def _view(run: StateRun, names: dict[int, str]) -> RunRecord:
    return RunRecord(
        id=run.id,
        source=names.get(run.source_id, str(run.source_id)),
        kind=run.kind.value,
        range_start=run.range_start,
        range_end=run.range_end,
        status=run.status.value,
        started_at=run.started_at,
        finished_at=run.finished_at,
        rows_written=run.rows_written,
        api_calls=run.api_calls,
        rate_limited=run.rate_limited_waits,
        duration_seconds=run.duration_seconds,
        error=run.error,
    )
