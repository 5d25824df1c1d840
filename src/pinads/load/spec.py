"""The Destination protocol: everything a run asks of a destination, the same for every kind.

A *step* (one unit of the extraction plan) is written together with its checkpoint
`(table, scope, step_id)` atomically: after a crash either both are there or neither.
Duplicate keys inside one step's batches: the last row wins. `tests/contract/` holds every
registered destination to the same behaviour.

Destinations differ in how many steps share a transaction: DuckDB groups consecutive steps
(per-step commits cost it about twice the CPU), the others commit each step on its own
(`write_each`). That difference lives inside `write_steps`, so the runner has one path for all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Protocol

import pyarrow as pa

from pinads.values import TableSpec, WriteMode

__all__ = ["Destination", "OnCommit", "StepItem", "write_each"]

# A step as the runner hands it over: (step id, its batches, whether it may share a
# transaction with the steps around it).
StepItem = tuple[str, Iterable[pa.RecordBatch], bool]
# Called after each commit with (step id, rows written) of the steps it made durable.
OnCommit = Callable[[list[tuple[str, int]]], None]


class Destination(Protocol):
    """Where rows land: tables pinads created and owns, with their step checkpoints."""

    url: str  # as shown in run records and messages: secrets as `***`

    def check(self) -> None:
        """Connect and verify the destination is writable; LoadError saying what to do if not."""

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """ConfigError naming the table and what to do if it exists and pinads did not create
        it (nor an earlier pinads version), or (with `grain`, see TableSpec.grain) created it for
        rows of another grain: a run checks this before any API call."""

    def write_step(
        self,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> int:
        """Write one step's rows and its checkpoint in one transaction; return rows written.

        In append mode a step that is already checkpointed is skipped (returns 0) so a rerun
        cannot duplicate a snapshot; the other modes re-apply it, which changes nothing.
        Replace mode requires `begin_replace(table)` first and `finish_replace(table)` after.
        """

    def write_steps(
        self,
        table: TableSpec,
        steps: Iterable[StepItem],
        *,
        mode: WriteMode,
        scope: str,
        on_commit: OnCommit,
        more_ready: Callable[[], bool] | None = None,
    ) -> None:
        """Write steps as they come, each atomic with its checkpoint, reporting each commit's
        steps to `on_commit`. A destination may keep a transaction open for the next groupable
        step while `more_ready()` says one is waiting (None: assume so); the steps it has
        written are committed before an error from `steps` goes on."""

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        """Step ids checkpointed for (table, scope); during a replace run, those of the run."""

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        """Forget the checkpoints of (table, scope), only those of `step_ids` when given, so
        those steps run again (data is kept)."""

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        """If the table is gone (dropped by hand) or was emptied by hand (no rows where its
        checkpoints recorded some), forget the checkpoints left for it so its steps run again;
        return the step ids of `scope` forgotten."""

    def begin_replace(self, table: TableSpec) -> None:
        """Start (or resume after a crash) a replace run: steps go into a shadow table."""

    def finish_replace(self, table: TableSpec) -> None:
        """Swap the shadow table in atomically, with its checkpoints; the old rows are gone."""

    def abort_replace(self, table_name: str) -> None:
        """Drop an unfinished replace run's shadow table and checkpoints; live data untouched."""

    def read_table(self, table_name: str) -> pa.Table:
        """The whole table as Arrow (tests, preview, verification); LoadError if it is absent."""

    def close(self) -> None:
        """Release connections; the destination is unusable afterwards."""


def write_each(
    destination: Destination,
    table: TableSpec,
    steps: Iterable[StepItem],
    *,
    mode: WriteMode,
    scope: str,
    on_commit: OnCommit,
) -> None:
    """`write_steps` for a destination that commits every step on its own transaction."""
    for step_id, batches, _ in steps:
        written = destination.write_step(table, batches, mode=mode, scope=scope, step_id=step_id)
        on_commit([(step_id, written)])
