"""Row tables -> JSON-ready dicts, fast. Mostly-filled columns go into whole rows built at C
speed (then their few empty cells are deleted); mostly-empty columns are added only where
they have a value. Either way empty values end up as absent keys, as Pinterest returns them."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import repeat
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["collector_paused", "row_dicts"]


class _CollectorPause:
    """Counts nested and concurrent pauses (handlers run in a thread pool): the collector is
    re-enabled when the last pause ends, and only if a pause had disabled it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._disabled_it = False

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._disabled_it = gc.isenabled()
                gc.disable()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._disabled_it:
                gc.enable()


_PAUSE = _CollectorPause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of row dicts are built and
    serialised: they hold no cycles, and generation passes over them cost a third of the time."""
    _PAUSE.enter()
    try:
        yield
    finally:
        _PAUSE.leave()


def row_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """One dict per row; null cells are left out."""
    n = table.num_rows
    dense: list[tuple[str, pa.Array]] = []
    sparse: list[tuple[str, pa.Array]] = []
    for name in table.column_names:
        column = table[name].combine_chunks()
        # Building a key into every dict costs about a third of deleting or adding it later.
        (sparse if column.null_count * 10 > 3 * n else dense).append((name, column))
    names = [name for name, _ in dense]
    values = [column.to_pylist() for _, column in dense]
    rows: list[dict[str, Any]] = (
        list(map(dict, map(zip, repeat(names), zip(*values, strict=True))))
        if dense
        else [{} for _ in range(n)]
    )
    for name, column in dense:
        if column.null_count:
            for i in pc.indices_nonzero(pc.is_null(column)).to_pylist():
                del rows[i][name]
    for name, column in sparse:
        present = pc.indices_nonzero(pc.is_valid(column))
        for i, value in zip(present.to_pylist(), pc.take(column, present).to_pylist(), strict=True):
            rows[i][name] = value
    return rows
