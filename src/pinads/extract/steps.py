"""`run_steps`: a plan's steps fetched and written into a destination, each with its checkpoint.

Every plan step is written through `Destination.write_steps`, rows and checkpoint in one
transaction (a destination may put several steps in it), so a rerun of the same range changes
nothing (upsert) and a crash loses nothing (the next run, or the resumed backfill, re-reads what
was not committed).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa

from pinads.api.client import PinterestClient
from pinads.errors import NoDataError
from pinads.extract.diagnose import empty_reason
from pinads.extract.engine import ExtractJob, StepStream, stream_steps
from pinads.extract.plan import Plan, PlanStep, StepKind
from pinads.extract.planning import Discovery
from pinads.extract.request import RunRequest
from pinads.load.spec import Destination, StepItem
from pinads.values import WriteMode

__all__ = [
    "NEXT_STEP_WAIT_SECONDS",
    "ProgressCallback",
    "RunProgress",
    "StepHooks",
    "build_job",
    "no_data_message",
    "run_steps",
]


@dataclass(slots=True)
class RunProgress:
    """Live counters for progress bars (CLI) and the web UI."""

    steps_total: int
    steps_done: int = 0
    steps_skipped: int = 0
    steps_reset: int = 0  # checkpointed, but their table was gone or emptied: done again
    rows: int = 0  # written (insert_ignore skips known keys, append skips known steps)
    rows_retrieved: int = 0  # read from Pinterest
    api_calls: int = 0
    current: str = ""
    # Written into a destination's open transaction (several steps share one), not committed
    # yet: shown as progress at once, counted as done only when committed.
    steps_staged: int = 0
    rows_staged: int = 0

    @property
    def steps_shown(self) -> int:
        """Steps to show as done: committed, or written and waiting for their commit."""
        return self.steps_done + self.steps_staged

    @property
    def rows_shown(self) -> int:
        return self.rows + self.rows_staged


ProgressCallback = Callable[[RunProgress], None]

# How long a destination that groups steps keeps its transaction (and so its file) open for the next
# step: steps that follow each other closely share a transaction (half the CPU of one each),
# and a run waiting longer on Pinterest leaves the file to other writers and readers meanwhile.
NEXT_STEP_WAIT_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class StepHooks:
    """What the caller hears as steps go: progress for bars and pages, each committed step
    (the run ledger), and a check before each write (raises to stop the run)."""

    progress: ProgressCallback | None = None
    on_step: Callable[[PlanStep, int], None] | None = None
    before_step: Callable[[], None] | None = None


class _Counted:
    """Batches passed through, counting their rows (rows read, whatever the write keeps)."""

    def __init__(self, batches: Iterable[pa.RecordBatch]) -> None:
        self.batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        batches, self.batches = self.batches, ()  # read once: the counter must not keep them
        for batch in batches:
            self.rows += batch.num_rows
            yield batch


def no_data_message(
    request: RunRequest, found: Discovery, plan: Plan, client: PinterestClient, *, today: date
) -> str:
    period = plan.date_range
    days = f" for {period}" if period else ""
    _, reason = empty_reason(
        client, request.dataset, account_ids=found.accounts, period=period, today=today
    )
    return (
        f"No data retrieved: source {request.source!r} got no rows{days} "
        f"from {len(found.accounts)} ad account(s): {reason}; check with "
        f"`pinads preview {request.source}`, or set allow_empty: true if an empty "
        "result is expected"
    )


def run_steps(
    request: RunRequest,
    plan: Plan,
    found: Discovery,
    client: PinterestClient,
    destination: Destination,
    *,
    hooks: StepHooks | None = None,
) -> RunProgress:
    """Run every step of the plan into the destination, each with its checkpoint in
    `request.scope` (skipping checkpointed ones when `request.resume`); return the final
    counters. Raises NoDataError ("No data retrieved") unless the source allows empty data."""
    hooks = hooks or StepHooks()
    mode = request.write_mode
    table = request.table
    planned = {step.step_id for step in plan.steps}
    reset: set[str] = set()
    if request.resume:
        # Checkpoints of a table dropped since are forgotten: its steps run again.
        reset = destination.reset_if_missing(table.name, request.scope) & planned
    # Only this plan's checkpoints count: earlier backfills of other ranges left theirs too.
    done = (
        destination.completed_steps(table.name, request.scope) & planned
        if request.resume
        else set()
    )
    steps = [step for step in plan.steps if step.step_id not in done]
    state = RunProgress(
        steps_total=len(plan.steps), steps_skipped=len(done), steps_reset=len(reset)
    )
    state.steps_done = len(plan.steps) - len(steps)
    # The run's calls: discovery (made beforehand) plus what the client counts from now.
    call_offset = plan.discovery_calls + found.step_calls_made - client.stats.calls
    job = build_job(request, found, client)
    if mode is WriteMode.REPLACE:
        destination.begin_replace(table)

    tracker = _Tracker(state, hooks, calls=lambda: call_offset + client.stats.calls)
    outputs = stream_steps(job, steps, workers=request.workers)
    check = hooks.before_step or (lambda: None)
    _write_steps(destination, outputs, request, tracker=tracker, before_step=check)
    # Checked before a replace run's swap: a run that should have found rows must not empty
    # the table.
    if state.rows_retrieved == 0 and not request.config.allow_empty and not done:
        today = (request.extracted_at or datetime.now(UTC)).date()
        raise NoDataError(no_data_message(request, found, plan, client, today=today))
    if mode is WriteMode.REPLACE:
        destination.finish_replace(table)
    return state


class _Tracker:
    """Keeps a run's counters as steps are written and committed, and reports them."""

    def __init__(self, state: RunProgress, hooks: StepHooks, *, calls: Callable[[], int]) -> None:
        self.state = state
        self.progress = hooks.progress
        self.on_step = hooks.on_step
        self.calls = calls
        self.staged_ids: set[str] = set()

    def staged(self, step: PlanStep, retrieved: int) -> None:
        """`step` is written into an open transaction: shown, not yet done."""
        self.staged_ids.add(step.step_id)
        self.state.steps_staged += 1
        self.state.rows_staged += retrieved
        self._report(step)

    def committed(self, step: PlanStep, written: int, retrieved: int) -> None:
        state = self.state
        if step.step_id in self.staged_ids:
            self.staged_ids.discard(step.step_id)
            state.steps_staged -= 1
            state.rows_staged -= retrieved
        state.rows += written
        state.rows_retrieved += retrieved
        state.steps_done += 1
        if self.on_step is not None:
            self.on_step(step, written)
        self._report(step)

    def _report(self, step: PlanStep) -> None:
        self.state.api_calls = self.calls()
        self.state.current = step.describe()
        if self.progress is not None:
            self.progress(self.state)


def _write_steps(
    destination: Destination,
    outputs: StepStream,
    request: RunRequest,
    *,
    tracker: _Tracker,
    before_step: Callable[[], None],
) -> None:
    """Hand the steps to the destination as they come; synchronous steps (many, each a few MB)
    may share a transaction where the destination groups them, a list or an async report step
    commits with those before it. The run ledger follows the commits; progress also shows a step
    written into an open transaction (the destination asks for the next step only once it has
    written one). The step stream is closed at once if a write fails: the fetch threads stop
    before the caller closes the client under them."""
    pending: dict[str, tuple[PlanStep, _Counted]] = {}

    def items() -> Generator[StepItem, None, None]:
        with closing(outputs):
            for output in outputs:
                counted = _Counted(output.batches)
                output.batches = ()  # the destination holds the rows until they are written
                pending[output.step.step_id] = (output.step, counted)
                try:
                    before_step()
                    yield output.step.step_id, counted, output.step.kind is StepKind.SYNC
                finally:
                    output.close()
                if output.step.step_id in pending:  # written, its transaction still open
                    tracker.staged(output.step, counted.rows)

    def on_commit(done: list[tuple[str, int]]) -> None:
        for step_id, written in done:
            step, counted = pending.pop(step_id)
            tracker.committed(step, written, counted.rows)

    with closing(items()) as steps:
        destination.write_steps(
            request.table,
            steps,
            mode=request.write_mode,
            scope=request.scope,
            on_commit=on_commit,
            more_ready=lambda: outputs.ready(wait_seconds=NEXT_STEP_WAIT_SECONDS),
        )


def build_job(request: RunRequest, found: Discovery, client: PinterestClient) -> ExtractJob:
    """What the extraction threads share: the client, the request's columns and constants,
    and the entity lists discovery read."""
    constants = {
        "_pinads_extracted_at": request.extracted_at or datetime.now(UTC),
        "_pinads_source": request.source,
        "_pinads_run_id": request.run_id,
        **request.settings.constants(),
    }
    keep_ids = None
    dataset = request.dataset
    if dataset.is_analytics and dataset.ids_from and not request.config.include_archived:
        keep_ids = {a: frozenset(e.ids(dataset.ids_from)) for a, e in found.entities.items()}
    return ExtractJob(
        client=client,
        settings=request.settings,
        table=request.table,
        accounts=found.accounts,
        entities={a: e.index for a, e in found.entities.items()},
        constants=constants,
        keep_ids=keep_ids,
        listed=found.listed,
        polling=request.polling,
    )
