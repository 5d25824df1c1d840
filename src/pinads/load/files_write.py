"""Writing one step's rows into one partition directory of a file dataset.

A partition holds one file per step that wrote to it (`part-<step hash>`), so loading new keys
only ever adds files. An upsert whose keys are already in the partition rewrites just the files
that hold them, without those keys, and deletes a file the step replaces entirely without
reading more than its key columns; which files can hold the keys is narrowed with the key
ranges the manifest records per file, so a long run does not re-read what it wrote earlier.

Order within a partition: the step's own file is written first (atomically), then the other
files lose the step's keys (each atomically). A crash in between can leave a key twice in that
partition until the step reruns; the checkpoint has not moved, so the next run does rerun it.
A file the step replaces entirely is not deleted here: it is listed in `obsolete`, and deleted
once the manifest that no longer lists it is saved (a failing step deletes nothing).

Partitions of one step are written on several threads at once: a `PartitionWrite` only reads
the manifest and keeps its own file changes (`changes`) for the caller to record.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pinads.load.files_io import (
    FileFormat,
    conform_table,
    read_data_file,
    sync_directory,
    write_data_file,
)
from pinads.load.files_manifest import FileStats, Manifest, key_ranges
from pinads.values import WriteMode

__all__ = ["PartitionWrite", "step_file_name"]


def step_file_name(prefix: str, step: tuple[str, str], fmt: FileFormat) -> str:
    """The file a step owns in each partition: rerunning the step replaces it, never adds."""
    digest = hashlib.sha256("\0".join(step).encode()).hexdigest()[:20]
    return f"{prefix}-{digest}{fmt.extension}"


@dataclass
class PartitionWrite:
    """One step's rows (already deduplicated, in the manifest's schema) for one partition."""

    dataset: Path
    part_dir: Path
    rows: pa.Table
    manifest: Manifest  # read only: several partitions are written at once
    key: tuple[str, ...]
    step: tuple[str, str]
    # Data files written (their stats) or superseded (None), by path relative to the dataset.
    changes: dict[str, FileStats | None] = field(default_factory=dict)
    # Files whose every row comes again with the step: deleted after the manifest is saved.
    obsolete: list[str] = field(default_factory=list)

    @property
    def fmt(self) -> FileFormat:
        return self.manifest.format

    @cached_property
    def _ranges(self) -> list[tuple[Any, Any]] | None:
        return key_ranges(self.rows, self.key) if self.key else None

    def run(self, mode: WriteMode) -> int:
        self.part_dir.mkdir(parents=True, exist_ok=True)
        written = self._run(mode)
        sync_directory(self.part_dir)  # once for all the renames above
        return written

    def _run(self, mode: WriteMode) -> int:
        if mode is WriteMode.APPEND:
            self._write(self.part_dir / step_file_name("snap", self.step, self.fmt), self.rows)
            return int(self.rows.num_rows)
        own = self.part_dir / step_file_name("part", self.step, self.fmt)
        if not self.key:
            # No key to merge on: the step's file simply holds the step's latest rows.
            self._write(own, self.rows)
            return int(self.rows.num_rows)
        if mode is WriteMode.INSERT_IGNORE:
            return self._insert_ignore(own)
        return self._upsert(own)

    def _upsert(self, own: Path) -> int:
        overlap = dict(self._overlapping())
        kept = self._kept_own_rows(own, overlap.pop(own, None))
        self._write(own, self.rows if kept is None else pa.concat_tables([kept, self.rows]))
        for path, left in overlap.items():
            if left:
                self._write(path, _anti_join(self._read(path), self.rows, self.key))
            else:  # every row of the file comes again with this step
                self.changes[self._rel(path.name)] = None
                self.obsolete.append(self._rel(path.name))
        return int(self.rows.num_rows)

    def _kept_own_rows(self, own: Path, left: int | None) -> pa.Table | None:
        """Rows of an earlier run of this step that this run does not bring again."""
        if left == 0 or not own.exists():
            return None
        rows = self._read(own)
        return rows if left is None else _anti_join(rows, self.rows, self.key)

    def _insert_ignore(self, own: Path) -> int:
        fresh = self.rows
        for path in self._candidates():
            fresh = _anti_join(fresh, self._read_keys(path), self.key)
        if fresh.num_rows == 0:
            return 0
        self._write(own, pa.concat_tables([self._read(own), fresh]) if own.exists() else fresh)
        return int(fresh.num_rows)

    def _overlapping(self) -> list[tuple[Path, int]]:
        """(file, how many of its rows the step leaves) for the files holding any of its keys.

        Only the key columns are read: a file the step replaces entirely is never read whole.
        """
        found = []
        step_keys = self.rows.select(list(self.key))
        for path in self._candidates():
            keys = self._read_keys(path)
            left = _anti_join(keys, step_keys, self.key).num_rows
            if left < keys.num_rows:
                found.append((path, left))
        return found

    def _candidates(self) -> list[Path]:
        """Files of the partition that may hold some of the step's keys, by their key ranges."""
        found = []
        with os.scandir(self.part_dir) as entries:
            for entry in entries:
                if not _is_data_file(entry, self.fmt):
                    continue
                stats = self.manifest.files.get(self._rel(entry.name))
                if (
                    stats is None
                    or not stats.describes(entry.stat())
                    or stats.may_hold(self._ranges)
                ):
                    found.append(Path(entry.path))
        return sorted(found)

    def _read(self, path: Path) -> pa.Table:
        return read_data_file(path, self.manifest.schema, self.fmt)

    def _read_keys(self, path: Path) -> pa.Table:
        columns = list(self.key)
        schema = pa.schema([self.manifest.schema.field(c) for c in columns])
        if self.fmt is FileFormat.PARQUET:
            # ParquetFile.read costs half of pq.read_table's dataset layer on small files.
            parquet = pq.ParquetFile(path)
            names = set(parquet.schema_arrow.names)
            present = [c for c in columns if c in names]
            table = parquet.read(columns=present, use_threads=False)
        elif self.fmt is FileFormat.CSV:
            options = pacsv.ConvertOptions(
                include_columns=columns,
                include_missing_columns=True,  # a key column added after the file was written
                column_types={f.name: f.type for f in schema},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            )
            table = pacsv.read_csv(path, convert_options=options)
        else:
            table = self._read(path).select(columns)
        return conform_table(table, schema, source=path)

    def _write(self, path: Path, rows: pa.Table) -> None:
        write_data_file(path, rows, self.fmt, sync_dir=False)
        ranges = self._ranges if rows is self.rows else None
        self.changes[self._rel(path.name)] = FileStats.of(path, rows, self.key, ranges=ranges)

    def _rel(self, name: str) -> str:
        """A file's name as the manifest knows it: relative to the dataset."""
        return name if self.part_dir == self.dataset else f"{self.part_dir.name}/{name}"


def _is_data_file(entry: os.DirEntry[str], fmt: FileFormat) -> bool:
    # Temporary files (`.name.partial`) start with a dot.
    return entry.name.endswith(fmt.extension) and not entry.name.startswith(".") and entry.is_file()


def _anti_join(left: pa.Table, right: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Rows of `left` whose key is not in `right`."""
    if left.num_rows == 0 or right.num_rows == 0:
        return left
    kept = left.join(
        right.select(list(key)), keys=list(key), join_type="left anti", use_threads=False
    )
    return kept.select(left.column_names)
