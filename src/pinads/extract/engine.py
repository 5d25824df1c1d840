"""Executing a plan: accounts in parallel, steps streamed to the writer as Arrow batches.

One worker thread per account (bounded) runs that account's steps in order and hands each
step's output to the caller through a bounded queue, so at most a few steps are in memory at
once. Synchronous rows are converted to Arrow in the worker (the JSON is dropped right away);
async reports are spooled to disk by the API client and streamed to Arrow by the consumer.
All threads share one client, hence one rate budget per category.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from pinads.api.client import PinterestClient
from pinads.api.reports import ReportPolling
from pinads.catalog.model import Granularity
from pinads.errors import ExtractError
from pinads.extract.entities import SpooledList
from pinads.extract.fetch import RequestSettings, fetch_sync_rows, report_rows, run_step_report
from pinads.extract.normalize import RowContext, to_batches
from pinads.extract.plan import PlanStep, StepKind
from pinads.extract.table import Selection
from pinads.values import TableSpec

__all__ = ["DEFAULT_WORKERS", "ExtractJob", "StepOutput", "StepStream", "stream_steps"]

DEFAULT_WORKERS = 4
# Async reports run on threads of their own: a report spends minutes waiting for Pinterest and
# then lies in a spooled file, so waiting for many at once costs neither memory nor calls (the
# budgets pace the polls). A backfill of several accounts x 6-month batches no longer goes in
# waves of DEFAULT_WORKERS.
REPORT_WORKERS = 8
_QUEUE_POLL_SECONDS = 0.2
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """Everything the workers need, shared read-only."""

    client: PinterestClient
    settings: RequestSettings
    table: TableSpec
    accounts: Mapping[str, Mapping[str, Any]]  # account id -> ad account object
    entities: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]  # account -> index
    constants: Mapping[str, Any]  # `_pinads_` values shared by every row
    keep_ids: Mapping[str, frozenset[str]] | None = None  # account -> ids (report filtering)
    listed: Mapping[str, SpooledList] = field(default_factory=dict)  # account -> its list
    polling: ReportPolling | None = None
    # account id -> entity lookups shared by that account's steps (see RowContext)
    lookups: dict[str, dict[tuple[str, str, str], tuple[pa.Array, pa.Array]]] = field(
        default_factory=dict
    )

    @property
    def selection(self) -> Selection:
        return self.settings.selection

    def context(self, step: PlanStep) -> RowContext:
        account = self.accounts.get(step.account_id, {"id": step.account_id})
        constants = dict(self.constants)
        constants["_pinads_account_currency"] = account.get("currency")
        constants["_pinads_account_name"] = account.get("name")
        if self.selection.granularity is Granularity.TOTAL:
            constants["_pinads_range_start"] = step.start
            constants["_pinads_range_end"] = step.end
        entities = self.entities.get(step.account_id, {})
        lookups = self.lookups.setdefault(step.account_id, {})
        return RowContext(account=account, entities=entities, constants=constants, lookups=lookups)


@dataclass(slots=True)
class StepOutput:
    """One step's rows, ready to write; `close()` frees what backs them (a report file)."""

    step: PlanStep
    batches: Iterable[pa.RecordBatch]
    close: Callable[[], None]


def _nothing() -> None:
    return None


def _fetch_step(job: ExtractJob, step: PlanStep) -> StepOutput:
    ctx = job.context(step)
    if step.kind is StepKind.SYNC:
        rows = fetch_sync_rows(job.client, job.settings, step)
        batches = list(to_batches(rows, selection=job.selection, table=job.table, ctx=ctx))
        return StepOutput(step, batches, _nothing)
    if step.kind is StepKind.LIST and step.api_calls == 0:
        # The ad account list itself: already read to resolve the accounts, no second call.
        accounts = [dict(account) for account in job.accounts.values()]
        batches = list(to_batches(accounts, selection=job.selection, table=job.table, ctx=ctx))
        return StepOutput(step, batches, _nothing)
    if step.kind is StepKind.LIST:
        # Read while planning (so the plan counted its pages): written from the spool, which
        # the writer's `close()` frees.
        spooled = job.listed.get(step.account_id)
        if spooled is None:
            raise ExtractError(f"step {step.step_id}: the account's list was not read")
        lazy = to_batches(spooled.items(), selection=job.selection, table=job.table, ctx=ctx)
        return StepOutput(step, lazy, spooled.close)
    result = run_step_report(job.client, job.settings, step, polling=job.polling)
    report = job.selection.dataset.async_report
    assert report is not None
    keep = job.keep_ids.get(step.account_id) if job.keep_ids is not None else None
    report_iter = report_rows(result, keep_ids=keep, id_key=report.row_id_key)
    lazy = to_batches(report_iter, selection=job.selection, table=job.table, ctx=ctx)
    return StepOutput(step, lazy, result.close)


class _Channel:
    """A bounded hand-over from workers to the consumer that either side can abandon."""

    def __init__(self, size: int) -> None:
        self.items: queue.Queue[StepOutput | BaseException | None] = queue.Queue(maxsize=size)
        self.stop = threading.Event()
        self.expected = 0  # workers started
        self.finished = 0  # workers whose end the consumer has taken

    def put(self, item: StepOutput | BaseException | None) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=_QUEUE_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        if isinstance(item, StepOutput):
            item.close()
        return False


def _worker(job: ExtractJob, steps: Sequence[PlanStep], channel: _Channel) -> None:
    try:
        for step in steps:
            if channel.stop.is_set():
                return
            # No collection here: the client streams each body into its own buffer, so what
            # the httpx response cycles keep until the collector runs is small (tests/api/
            # test_memory.py); a full collection per step cost more CPU than the step's parse.
            output = _fetch_step(job, step)
            if channel.stop.is_set() or not channel.put(output):
                return
    except Exception as exc:  # noqa: BLE001 - a thread's top level: handed to the consumer
        _hand_over(channel, exc)
    finally:
        channel.put(None)


def _hand_over(channel: _Channel, error: Exception) -> None:
    """Give the consumer the error to raise in its thread, unless it has stopped reading: then
    the run is already failing (or done) for a first cause, and this one is only a consequence
    of the teardown (a request on the closed client, say), which must not replace it."""
    if channel.stop.is_set():
        log.debug("extract worker stopped after the run ended: %s", type(error).__name__)
        return
    channel.put(error)


class StepStream:
    """The outputs of `stream_steps`, in the order they are ready; a generator that can also
    tell whether the next output is already waiting (`ready`)."""

    def __init__(self, outputs: Generator[StepOutput, None, None], channel: _Channel) -> None:
        self._outputs = outputs
        self._channel = channel

    def __iter__(self) -> StepStream:
        return self

    def __next__(self) -> StepOutput:
        return next(self._outputs)

    def close(self) -> None:
        self._outputs.close()

    def ready(self, *, wait_seconds: float = 0.0) -> bool:
        """Whether the next `next()` returns at once (an output or an error waits, or the
        stream has ended) rather than waiting for Pinterest, now or within `wait_seconds`:
        a writer keeps its transaction open only then."""
        channel = self._channel
        items = channel.items

        def settled() -> bool:
            ended = sum(1 for item in items.queue if item is None)
            return channel.finished + ended >= channel.expected or any(
                item is not None for item in items.queue
            )

        with items.not_empty:  # the queue's own condition, notified by every put
            return items.not_empty.wait_for(settled, timeout=wait_seconds)


def stream_steps(
    job: ExtractJob, steps: Sequence[PlanStep], *, workers: int = DEFAULT_WORKERS
) -> StepStream:
    """Each step's output as it is ready; accounts (and async reports) run in parallel, the
    synchronous steps of one account in plan order. The consumer must write (and close) each
    output before asking for the next, and close the stream when it stops early."""
    reports, accounts = _groups(steps)
    channel = _Channel(size=max(1, min(workers, len(reports) + len(accounts))))
    return StepStream(_produce(job, (reports, accounts), channel, workers=workers), channel)


def _produce(
    job: ExtractJob,
    units: tuple[list[list[PlanStep]], list[list[PlanStep]]],
    channel: _Channel,
    *,
    workers: int,
) -> Generator[StepOutput, None, None]:
    reports, accounts = units
    if not reports and not accounts:
        return
    pools: list[ThreadPoolExecutor] = []
    futures: list[Future[None]] = []
    for name, groups, size in (
        ("report", reports, REPORT_WORKERS),
        ("extract", accounts, workers),
    ):
        if groups:
            pool = ThreadPoolExecutor(
                max_workers=max(1, min(size, len(groups))), thread_name_prefix=f"pinads-{name}"
            )
            pools.append(pool)
            futures += [pool.submit(_worker, job, group, channel) for group in groups]
    channel.expected = len(futures)
    try:
        yield from _drain(channel)
    finally:
        # Every worker error reached the consumer through the channel (the first one is the
        # run's cause) or came after it stopped reading: nothing is raised here, so an error
        # of the teardown never hides the one that ended the run.
        channel.stop.set()
        _discard(channel)
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        _discard(channel)


def _groups(steps: Sequence[PlanStep]) -> tuple[list[list[PlanStep]], list[list[PlanStep]]]:
    """Work units for the threads: every async report is a unit of its own, because a report
    spends most of its time waiting for Pinterest, so several wait side by side; the other
    steps of one account run in order (one account's calls at a time)."""
    by_account: dict[str, list[PlanStep]] = {}
    reports: list[list[PlanStep]] = []
    for step in steps:
        if step.kind is StepKind.REPORT:
            reports.append([step])
        else:
            by_account.setdefault(step.account_id, []).append(step)
    return reports, list(by_account.values())


def _drain(channel: _Channel) -> Iterator[StepOutput]:
    while channel.finished < channel.expected:
        item = channel.items.get()
        if item is None:
            channel.finished += 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield item


def _discard(channel: _Channel) -> None:
    while True:
        try:
            item = channel.items.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, StepOutput):
            item.close()
