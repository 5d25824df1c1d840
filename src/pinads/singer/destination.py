"""`SingerDestination`: the runner's Destination seam, emitting Singer messages instead of
writing a table. A plan step's rows become RECORD messages, then a STATE message marks the
step done: the same "rows, then checkpoint" order every other destination keeps in one
transaction, which a Singer target turns into its own commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime

import pyarrow as pa

from pinads.errors import LoadError
from pinads.load.spec import OnCommit, StepItem, write_each
from pinads.singer.messages import MessageWriter
from pinads.values import TableSpec, WriteMode

__all__ = ["SingerDestination"]


class SingerDestination:
    """Writes one stream: `columns` of each row as a RECORD; after each step `on_step_done`
    (which records the step in the bookmark and emits the STATE)."""

    url = "singer:stdout"

    def __init__(
        self,
        writer: MessageWriter,
        *,
        stream: str,
        columns: tuple[str, ...],
        extracted_at: datetime,
        steps_done: set[str],
        on_step_done: Callable[[str], None],
    ) -> None:
        self.writer = writer
        self.stream = stream
        self.columns = columns
        self.extracted_at = extracted_at
        self.steps_done = steps_done
        self.on_step_done = on_step_done

    def check(self) -> None:
        return None

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """A stream owns no table here: the target creates and owns it."""
        return None

    def write_step(
        self,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> int:
        rows = 0
        for batch in batches:
            for record in batch.select(list(self.columns)).to_pylist():
                self.writer.record(self.stream, record, extracted_at=self.extracted_at)
                rows += 1
        self.on_step_done(step_id)
        return rows

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
        """Each step's RECORDs, then its STATE, as the steps come (`write_each`)."""
        write_each(self, table, steps, mode=mode, scope=scope, on_commit=on_commit)

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        return set(self.steps_done)

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        if step_ids is None:
            self.steps_done.clear()
        else:
            self.steps_done.difference_update(step_ids)

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        """The bookmark is the tap's state, not a table's: nothing here can go missing."""
        return set()

    # Replace runs are the target's business (the tap emits the rows, the target keeps them
    # by key): the tap runs every source as upsert, so these are never called.
    def begin_replace(self, table: TableSpec) -> None:
        raise LoadError("a Singer stream has no replace mode: the target decides how rows land")

    def finish_replace(self, table: TableSpec) -> None:
        self.begin_replace(table)

    def abort_replace(self, table_name: str) -> None:
        return None

    def read_table(self, table_name: str) -> pa.Table:
        raise LoadError("a Singer stream cannot be read back: read the target's table instead")

    def close(self) -> None:
        return None
