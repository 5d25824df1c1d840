"""Writing one step's rows into one partition directory of a file dataset.

A partition holds one file per step that wrote to it (`part-<step hash>`), so loading new keys
only ever adds files. An upsert whose keys are already in the partition rewrites just the files
that hold them, without those keys; which files those can be is narrowed with the key ranges
the manifest records per file, so a long run does not re-read what it wrote earlier.

Order within a partition: the step's own file is written first (atomically), then the other
files lose the step's keys (each atomically). A crash in between can leave a key twice in that
partition until the step reruns; the checkpoint has not moved, so the next run does rerun it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pinads.load.files_io import FileFormat, read_data_file, sync_directory, write_data_file
from pinads.load.files_manifest import FileStats, Manifest, key_ranges
from pinads.load.spec import WriteMode

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
    manifest: Manifest
    key: tuple[str, ...]
    step: tuple[str, str]

    @property
    def fmt(self) -> FileFormat:
        return self.manifest.format

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
        own_rows = self._read(own) if own.exists() else None
        if not self.key:
            # No key to merge on: the step's file simply holds the step's latest rows.
            self._write(own, self.rows)
            return int(self.rows.num_rows)
        others = self._files_holding_keys(exclude=own)
        if mode is WriteMode.INSERT_IGNORE:
            return self._insert_ignore(own, own_rows, others)
        merged = (
            self.rows
            if own_rows is None
            else pa.concat_tables([_anti_join(own_rows, self.rows, self.key), self.rows])
        )
        self._write(own, merged)
        for path in others:
            kept = _anti_join(self._read(path), self.rows, self.key)
            if kept.num_rows:
                self._write(path, kept)
            else:
                path.unlink()
                self.manifest.files.pop(self._rel(path), None)
        return int(self.rows.num_rows)

    def _insert_ignore(self, own: Path, own_rows: pa.Table | None, others: list[Path]) -> int:
        fresh = self.rows
        for existing in ([own_rows] if own_rows is not None else []) + [
            self._read_keys(p) for p in others
        ]:
            fresh = _anti_join(fresh, existing, self.key)
        if fresh.num_rows == 0:
            return 0
        self._write(own, fresh if own_rows is None else pa.concat_tables([own_rows, fresh]))
        return int(fresh.num_rows)

    def _files_holding_keys(self, *, exclude: Path) -> list[Path]:
        """Files of the partition that hold at least one of the step's keys."""
        ranges = key_ranges(self.rows, self.key)
        holding = []
        for path in sorted(self.part_dir.glob(f"*{self.fmt.extension}")):
            if path == exclude or path.name.startswith(".") or not path.is_file():
                continue
            stats = self.manifest.files.get(self._rel(path))
            if stats is not None and stats.describes(path) and not stats.may_hold(ranges):
                continue
            keys = self._read_keys(path)
            if _semi_join(keys, self.rows.select(list(self.key)), self.key).num_rows:
                holding.append(path)
        return holding

    def _read(self, path: Path) -> pa.Table:
        return read_data_file(path, self.manifest.schema, self.fmt)

    def _read_keys(self, path: Path) -> pa.Table:
        columns = list(self.key)
        if self.fmt is FileFormat.PARQUET:
            return pq.read_table(path, columns=columns)
        if self.fmt is FileFormat.CSV:
            options = pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: self.manifest.schema.field(c).type for c in columns},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            )
            return pacsv.read_csv(path, convert_options=options)
        return self._read(path).select(columns)

    def _write(self, path: Path, rows: pa.Table) -> None:
        write_data_file(path, rows, self.fmt, sync_dir=False)
        self.manifest.files[self._rel(path)] = FileStats.of(path, rows, self.key)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.dataset).as_posix()


def _anti_join(left: pa.Table, right: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Rows of `left` whose key is not in `right`."""
    if left.num_rows == 0 or right.num_rows == 0:
        return left
    kept = left.join(
        right.select(list(key)), keys=list(key), join_type="left anti", use_threads=False
    )
    return kept.select(left.column_names)


def _semi_join(left: pa.Table, right: pa.Table, key: tuple[str, ...]) -> pa.Table:
    if left.num_rows == 0 or right.num_rows == 0:
        return left.slice(0, 0)
    return left.join(right, keys=list(key), join_type="left semi", use_threads=False)
