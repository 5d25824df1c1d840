"""What a destination is: the Destination protocol and the CheckedTables extension."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Protocol, runtime_checkable

import pyarrow as pa

from pinads.values import TableSpec, WriteMode

__all__ = ["CheckedTables", "Destination"]


class Destination(Protocol):
    """Where rows land. Every destination gives the same guarantees (see tests/contract/).

    A *step* (one unit of the extraction plan) is written together with its checkpoint
    `(table, scope, step_id)` atomically: after a crash either both are there or neither.
    Duplicate keys inside one step's batches: the last row wins.
    """

    url: str

    def check(self) -> None:
        """Connect and verify the destination is writable; LoadError saying what to do if not."""

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

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        """Step ids checkpointed for (table, scope); during a replace run, those of the run."""

    def clear_steps(self, table_name: str, scope: str) -> None:
        """Forget the checkpoints of (table, scope) so its steps run again (data is kept)."""

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


@runtime_checkable
class CheckedTables(Protocol):
    """A destination that writes only tables it created and ties checkpoints to their table
    (DuckDB, PostgreSQL and files; see ownership.py)."""

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """ConfigError naming the table and what to do if it exists and pinads did not create
        it (nor an earlier pinads version), or (with `grain`, see TableSpec.grain) created it for
        rows of another grain: a run checks this before any API call."""

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        """If the table is gone (dropped by hand) or was emptied by hand (no rows where its
        checkpoints recorded some), forget the checkpoints left for it so its steps run again;
        return the step ids of `scope` forgotten."""

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        """Forget the checkpoints of (table, scope), only those of `step_ids` when given."""
