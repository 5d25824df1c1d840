"""Row tables -> JSON-ready dicts, fast. Mostly-filled columns go into whole rows built at C
speed (then their few empty cells are deleted); mostly-empty columns are added only where
they have a value. Either way empty values end up as absent keys, as Pinterest returns them."""

from __future__ import annotations

from itertools import repeat
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["row_dicts"]


def row_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """One dict per row; null cells are left out."""
    n = table.num_rows
    dense: list[tuple[str, pa.Array]] = []
    sparse: list[tuple[str, pa.Array]] = []
    for name in table.column_names:
        column = table[name].combine_chunks()
        (sparse if column.null_count * 2 > n else dense).append((name, column))
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
