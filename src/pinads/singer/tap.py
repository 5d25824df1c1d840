"""`discover` and `sync`: pinads sources as Singer streams.

A sync is the runner's own path: a `RunRequest`, `discover` (accounts, entity lists),
`make_plan` and `run_steps` (the extract engine, normalisation to Arrow, steps in parallel),
with `SingerDestination` in place of a table. Which days a stream reads:
- a range a previous sync left unfinished (its bookmark's `in_progress`): that range, planned
  the same way, skipping the steps the target already has;
- else the source's date range as `pinads run` reads it (the trailing attribution window
  re-read), reaching back to the day after the bookmark when the last sync was longer ago.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from pinads import extract
from pinads.api.client import PinterestClient
from pinads.extract import RunProgress, RunRequest, StepHooks, make_plan, run_steps
from pinads.extract.plan import Strategy, earliest_day
from pinads.runner.request import effective_period, with_grain
from pinads.singer.bookmarks import Bookmark, StreamState
from pinads.singer.config import TapConfig, TapStream
from pinads.singer.destination import SingerDestination
from pinads.singer.messages import MessageWriter
from pinads.singer.schema import (
    catalog_entry,
    key_properties,
    replication_key,
    selection_of,
    stream_schema,
)
from pinads.values import DateRange, RunKind

__all__ = ["StreamResult", "discover", "reading_period", "sync"]

log = logging.getLogger("pinads.singer")

ClientOpener = Callable[[str], PinterestClient]


def discover(tap: TapConfig) -> dict[str, Any]:
    """The Singer catalog of the config's sources (no API call: the catalog defines them)."""
    return {"streams": [catalog_entry(s.table, append=s.append) for s in tap.streams]}


@dataclass(frozen=True, slots=True)
class StreamResult:
    stream: str
    records: int
    steps: int
    steps_skipped: int
    period: DateRange | None


def reading_period(
    stream: TapStream, bookmark: Bookmark, *, today: date
) -> tuple[DateRange | None, Strategy]:
    """The days this sync reads for `stream` and how they are planned (None: an entity list)."""
    dataset, config = stream.dataset, stream.config
    if not dataset.is_analytics:
        return None, Strategy.AUTO
    if bookmark.in_progress is not None:
        return bookmark.in_progress, Strategy(bookmark.strategy or Strategy.AUTO.value)
    period = effective_period(config, today=today, explicit=None, resync=True)
    start = period.start
    if bookmark.loaded_through is not None:
        start = min(start, bookmark.loaded_through + timedelta(days=1))
    floor = earliest_day(dataset, config.granularity, today=today, sync=False)
    if start < floor:
        log.warning(
            "%s: the bookmark is older than Pinterest keeps (%s): reading from %s",
            config.name,
            bookmark.loaded_through,
            floor,
        )
        start = floor
    reading = DateRange(start=min(start, period.end), end=period.end)
    # Days past the synchronous endpoints' reach come from async reports: plan them as a
    # backfill does, in batches aligned on the range's start, so a resumed sync on a later
    # day finds the same steps.
    sync_from = earliest_day(dataset, config.granularity, today=today, sync=True)
    reaches_back = reading.start < sync_from and dataset.async_report is not None
    return reading, Strategy.CHEAPEST if reaches_back else Strategy.AUTO


def _log_progress(stream: str) -> Callable[[RunProgress], None]:
    def report(progress: RunProgress) -> None:
        log.info(
            "%s: %d/%d steps, %d rows, %d API calls (%s)",
            stream,
            progress.steps_done,
            progress.steps_total,
            progress.rows,
            progress.api_calls,
            progress.current,
        )

    return report


def _sync_stream(
    stream: TapStream,
    columns: tuple[str, ...],
    *,
    state: StreamState,
    writer: MessageWriter,
    client: PinterestClient,
    today: date,
) -> StreamResult:
    name = stream.table.name
    bookmark = state.bookmark(name)
    reading, strategy = reading_period(stream, bookmark, today=today)
    key = replication_key(stream.table)
    writer.schema(
        name,
        stream_schema(stream.table, columns),
        key_properties=key_properties(stream.table, append=stream.append),
        bookmark_properties=[key] if key else [],
    )

    def step_done(step_id: str) -> None:
        bookmark.steps_done.add(step_id)
        state.update(bookmark, key=key, reading=reading, strategy=strategy.value)
        writer.state(state.value)

    extracted_at = datetime.now(UTC)
    # Not a run of the runner's (no run history, no lock): the tap's steps are checkpointed in
    # the Singer state, under a scope of their own, and a sync resumes them.
    request = with_grain(
        RunRequest.of(
            stream.config,
            stream.dataset,
            kind=RunKind.MANUAL,
            run_id=uuid.uuid4().hex[:16],
            today=today,
            period=reading,
            strategy=strategy,
            scope="singer",
            resume=True,
            extracted_at=extracted_at,
        )
    )
    found = extract.discover(request, client)
    destination = SingerDestination(
        writer,
        stream=name,
        columns=columns,
        extracted_at=extracted_at,
        steps_done=set(bookmark.steps_done),
        on_step_done=step_done,
    )
    try:
        plan = make_plan(request, found)
        hooks = StepHooks(progress=_log_progress(name))
        progress = run_steps(request, plan, found, client, destination, hooks=hooks)
    finally:
        found.close()
    bookmark.finish(reading)
    state.update(bookmark, key=key, reading=None, strategy=strategy.value)
    writer.state(state.value)
    return StreamResult(
        stream=name,
        records=progress.rows,
        steps=progress.steps_total,
        steps_skipped=progress.steps_skipped,
        period=reading,
    )


def sync(
    tap: TapConfig,
    *,
    catalog: Mapping[str, Any] | None,
    state: Mapping[str, Any] | None,
    out: IO[bytes],
    opener: ClientOpener,
    today: date | None = None,
) -> list[StreamResult]:
    """Sync every selected stream (all of them without a catalog), one after the other,
    emitting SCHEMA, RECORD and STATE messages to `out`."""
    today = today or datetime.now(UTC).date()
    writer = MessageWriter(out)
    states = StreamState(state)
    for stream in tap.streams:  # a damaged bookmark is a config error before any API call
        states.bookmark(stream.table.name)
    results: list[StreamResult] = []
    for stream in tap.streams:
        columns = stream.table.column_names
        if catalog is not None:
            chosen = selection_of(catalog, stream.table)
            if not chosen.selected:
                log.info("%s: not selected in the catalog, skipped", stream.table.name)
                continue
            columns = chosen.columns
        with opener(stream.config.authorizer) as client:
            result = _sync_stream(
                stream, columns, state=states, writer=writer, client=client, today=today
            )
        log.info(
            "%s: done, %d records in %d steps (%d done before)%s",
            result.stream,
            result.records,
            result.steps,
            result.steps_skipped,
            f" for {result.period.start}..{result.period.end}" if result.period else "",
        )
        results.append(result)
    return results
