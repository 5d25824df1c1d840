"""Files destination: one dataset directory per table, date partitions, atomic file swaps.

Layout of `file:///root?format=parquet`::

    root/<table>/_pinads_manifest.json              schema, key, checkpoints, file key ranges
    root/<table>/date=2026-09-01/part-<h>.parquet   rows of the step with hash <h> (upsert,
                                                    insert_ignore, replace)
    root/<table>/date=2026-09-01/snap-<h>.parquet   the snapshot an append step took
    root/<table>/part-<h>.parquet                   tables without a `date` column

A step's rows are collected first, so a failure while they arrive changes nothing. Each file
is written to a temporary name and renamed into place (see files_write for the order), and the
manifest with the step's checkpoint is replaced last: a crash in between reruns the step, which
is idempotent (a step owns one file name per partition and upsert removes its keys from the
other files). Files whose rows all came again with the step are deleted only after that
manifest is saved (it lists them as obsolete until they are gone), so a step that fails
part-way deletes no file. One process writes a root at a time; within it, a step's partitions
are written on several threads (one per core), and the manifest records their files once all
have ended.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from pinads.errors import ConfigError, LoadError
from pinads.load.conform import collect_step, last_per_key
from pinads.load.cores import usable_cores
from pinads.load.files_io import (
    FileFormat,
    atomic_write_bytes,
    conform_table,
    read_data_file,
    utc_now_text,
)
from pinads.load.files_manifest import MANIFEST_NAME, Manifest
from pinads.load.files_write import PartitionWrite
from pinads.load.ownership import GrainMismatchError, grain_difference
from pinads.load.spec import OnCommit, StepItem, write_each
from pinads.values import TableSpec, WriteMode, shadow_name

__all__ = ["FilesDestination"]

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Rows per piece when splitting a step into partitions: pieces are split on several threads.
_SPLIT_ROWS = 65_536

T = TypeVar("T")
R = TypeVar("R")


class FilesDestination:
    """Datasets of Parquet, CSV or JSONL files under one root directory."""

    def __init__(self, root: Path, fmt: FileFormat, *, url: str) -> None:
        self.url = url
        self.root = root
        self.format = fmt
        self._lock = threading.RLock()

    def check(self) -> None:
        with self._io("write a test file"):
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".pinads-check-{uuid.uuid4().hex}"
            atomic_write_bytes(probe, b"ok")
            probe.unlink()

    def close(self) -> None:
        """Nothing stays open between calls."""

    @contextmanager
    def _io(self, what: str) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except OSError as exc:
                raise LoadError(
                    f"cannot {what} under {self.root} ({exc.strerror or exc}); "
                    f"{_advice(exc)} or choose another directory in the destination URL"
                ) from exc

    # -- writing ----------------------------------------------------------------------------

    def write_step(
        self,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> int:
        mode = WriteMode(mode)
        name = shadow_name(table.name) if mode is WriteMode.REPLACE else table.name
        with self._io(f"write table {table.name!r}"):
            self._recover(table.name)
            dataset = self.root / name
            manifest = Manifest.load(dataset, self.format)
            if manifest is None:
                _refuse_foreign(dataset, table.name)
                if mode is WriteMode.REPLACE:
                    raise LoadError(
                        f"replace mode on table {table.name!r} needs begin_replace() before "
                        "the first step and finish_replace() after the last"
                    )
                manifest = Manifest.new(table, self.format)
            manifest.delete_obsolete(dataset)  # a crash came between a commit and its deletes
            if mode is not WriteMode.REPLACE:
                manifest = _same_grain(manifest, table, where=self.root)
            if mode is WriteMode.APPEND and step_id in manifest.steps.get(scope, {}):
                return 0
            manifest = manifest.evolved(table)
            dataset.mkdir(parents=True, exist_ok=True)
            written = self._write(
                dataset, table.renamed(name), batches, manifest, mode=mode, step=(scope, step_id)
            )
            manifest.steps.setdefault(scope, {})[step_id] = {
                "rows": written,
                "committed_at": utc_now_text(),
            }
            manifest.save(dataset)  # last: the checkpoint moves only after the data is in place
            manifest.delete_obsolete(dataset)
            return written

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
        """Each step commits on its own, in the order given (`write_each`)."""
        write_each(self, table, steps, mode=mode, scope=scope, on_commit=on_commit)

    def _write(
        self,
        dataset: Path,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        manifest: Manifest,
        *,
        mode: WriteMode,
        step: tuple[str, str],
    ) -> int:
        rows = collect_step(table, batches, require_key=mode.uses_key)
        if mode.uses_key and table.key:
            # Once for the whole step: per partition costs more (a group-by per small file).
            rows = last_per_key(rows, table.key)
        rows = conform_table(rows, manifest.schema, source="the step's rows")
        key = table.key if mode.uses_key else ()

        def write(part: tuple[Path, pa.Table]) -> tuple[int, PartitionWrite]:
            job = PartitionWrite(dataset, *part, manifest, key=key, step=step)
            return job.run(mode), job

        written = 0
        for count, job in in_parallel(write, _partitions(dataset, manifest.partition_by, rows)):
            manifest.record(job.changes)
            manifest.obsolete.extend(job.obsolete)
            written += count
        return written

    # -- ownership: a dataset is pinads' when its directory holds pinads' manifest -------------

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        """ConfigError if the directory of table `table_name` (or of its replace shadow) holds
        files and no pinads manifest: a run would write among someone else's files; or (with
        `grain`) if its manifest was made for rows of another grain."""
        with self._io(f"check table {table_name!r}"):
            self._recover(table_name)
            for name in (table_name, shadow_name(table_name)):
                _refuse_foreign(self.root / name, table_name)
            manifest = Manifest.load(self.root / table_name, self.format)
            if grain is not None and manifest is not None:
                _check_grain(manifest.grain, grain, table_name, where=self.root)

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        """Nothing to reset: a dataset's checkpoints live in its manifest and go with it."""
        return set()

    # -- checkpoints ------------------------------------------------------------------------

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        with self._io("read checkpoints"):
            self._recover(table_name)
            manifest = Manifest.load(self.root / shadow_name(table_name), self.format)
            if manifest is None:
                manifest = Manifest.load(self.root / table_name, self.format)
            return set(manifest.steps.get(scope, {})) if manifest else set()

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        with self._io("clear checkpoints"):
            for name in (table_name, shadow_name(table_name)):
                manifest = Manifest.load(self.root / name, self.format)
                steps = manifest.steps.get(scope) if manifest is not None else None
                if manifest is None or steps is None:
                    continue
                if step_ids is None:
                    del manifest.steps[scope]
                else:
                    manifest.steps[scope] = {k: v for k, v in steps.items() if k not in step_ids}
                manifest.save(self.root / name)

    # -- replace runs -----------------------------------------------------------------------

    def begin_replace(self, table: TableSpec) -> None:
        shadow = self.root / shadow_name(table.name)
        with self._io(f"start replacing table {table.name!r}"):
            self._recover(table.name)
            _refuse_foreign(self.root / table.name, table.name)
            manifest = Manifest.load(shadow, self.format)
            if manifest is None:
                # Start empty (an empty directory is a crash's leftover; anything else is
                # refused); columns only the live dataset has stay (none silently dropped).
                _refuse_foreign(shadow, table.name)
                if shadow.is_dir():
                    shadow.rmdir()
                manifest = Manifest.new(table, self.format)
                live = Manifest.load(self.root / table.name, self.format)
                if live is not None:
                    manifest = manifest.with_columns(live.schema)
            shadow.mkdir(parents=True, exist_ok=True)
            manifest.evolved(table).save(shadow)

    def finish_replace(self, table: TableSpec) -> None:
        shadow = self.root / shadow_name(table.name)
        live = self.root / table.name
        with self._io(f"swap in the new table {table.name!r}"):
            self._recover(table.name)
            if Manifest.load(shadow, self.format) is None:
                raise LoadError(f"no replace run is in progress for table {table.name!r}")
            _refuse_foreign(live, table.name)  # never move away a directory pinads did not make
            old = self.root / f".{table.name}.old-{uuid.uuid4().hex}"
            if live.exists():
                os.replace(live, old)
            # A crash between these renames is undone by _recover() (the old data comes back).
            os.replace(shadow, live)
            shutil.rmtree(old, ignore_errors=True)

    def abort_replace(self, table_name: str) -> None:
        shadow = self.root / shadow_name(table_name)
        with self._io(f"abort replacing table {table_name!r}"):
            if (shadow / MANIFEST_NAME).is_file():
                shutil.rmtree(shadow, ignore_errors=True)
            elif shadow.is_dir() and not any(shadow.iterdir()):
                shadow.rmdir()

    def _recover(self, table_name: str) -> None:
        """Undo a swap that a crash interrupted; remove leftovers of a finished one."""
        live = self.root / table_name
        olds = sorted(self.root.glob(f".{table_name}.old-*")) if self.root.exists() else []
        if olds and not live.exists():
            os.replace(olds.pop(), live)
        for old in olds:
            if (old / MANIFEST_NAME).is_file():  # only datasets pinads moved aside
                shutil.rmtree(old, ignore_errors=True)

    # -- reading ----------------------------------------------------------------------------

    def read_table(self, table_name: str) -> pa.Table:
        with self._io(f"read table {table_name!r}"):
            self._recover(table_name)
            dataset = self.root / table_name
            manifest = Manifest.load(dataset, self.format)
            if manifest is None:
                raise LoadError(f"table {table_name!r} does not exist under {self.root}")
            obsolete = {dataset / name for name in manifest.obsolete}
            files = sorted(
                p
                for p in dataset.rglob(f"*{self.format.extension}")
                if not p.name.startswith(".") and p not in obsolete
            )
            table = _read_all(files, manifest.schema, self.format)
            return table if table is not None else manifest.schema.empty_table()


def _same_grain(manifest: Manifest, table: TableSpec, *, where: Path) -> Manifest:
    """The manifest, with the table's grain if it had none; ConfigError if it has another."""
    if table.grain is None:
        return manifest
    _check_grain(manifest.grain, table.grain, table.name, where=where)
    return replace(manifest, grain=table.grain)


def _check_grain(kept: str | None, grain: str, table_name: str, *, where: Path) -> None:
    if kept is None or kept == grain:
        return
    raise GrainMismatchError(
        f"table {table_name!r} under {where} holds rows of another grain than source "
        f"{table_name!r} now reads ({grain_difference(kept, grain)}), and pinads will not mix "
        f"them in one table; rebuild it with the new config (`pinads sources edit {table_name} "
        "--file FILE --rebuild`, or write_mode: replace for one run) or give the source another "
        "name (its table takes its name)"
    )


def _refuse_foreign(dataset: Path, table_name: str) -> None:
    """ConfigError if `dataset` exists as anything but pinads' dataset or an empty directory."""
    if (dataset / MANIFEST_NAME).is_file() or not (dataset.exists() or dataset.is_symlink()):
        return
    if dataset.is_dir() and not dataset.is_symlink() and not any(dataset.iterdir()):
        return
    what = "directory" if dataset.is_dir() else "file"
    fix = (
        "rename the source (its table takes its name) or move that directory away"
        if dataset.name == table_name
        else f"move that {what} away (its name is reserved to pinads' replace runs)"
    )
    raise ConfigError(
        f"table {table_name!r}: {dataset} already exists and pinads did not create it (it has "
        f"no {MANIFEST_NAME}), so pinads will not write there; {fix}"
    )


def _read_all(files: list[Path], schema: pa.Schema, fmt: FileFormat) -> pa.Table | None:
    if not files:
        return None
    return pa.concat_tables([read_data_file(f, schema, fmt) for f in files])


def _partitions(dataset: Path, column: str | None, rows: pa.Table) -> list[tuple[Path, pa.Table]]:
    """The rows of each date partition, in their original order.

    Each record batch is split on its own (in parallel): taking rows from the whole chunked
    table would concatenate every column again for each partition.
    """
    if rows.num_rows == 0:
        return []
    if column is None:
        return [(dataset, rows)]
    pieces: dict[dt.date | None, list[pa.RecordBatch]] = {}
    batches = rows.to_batches(max_chunksize=_SPLIT_ROWS)
    if len(batches) > 1 and rows.num_rows < len(batches) * _SPLIT_ROWS // 16:
        # Many small batches: one copy costs less than a sort and a take for each.
        batches = rows.combine_chunks().to_batches(max_chunksize=_SPLIT_ROWS)
    for split in in_parallel(lambda batch: _split_batch(batch, column), batches):
        for value, piece in split:
            pieces.setdefault(value, []).append(piece)
    return [
        (dataset / f"{column}={_label(value)}", pa.Table.from_batches(pieces[value]))
        for value in sorted(pieces, key=lambda v: (v is None, v or dt.date.min))
    ]


def _split_batch(batch: pa.RecordBatch, column: str) -> list[tuple[dt.date | None, pa.RecordBatch]]:
    """(partition value, its rows) for each value of `column` in `batch`: one stable sort."""
    ordered = batch.take(pc.array_sort_indices(batch.column(column), null_placement="at_end"))
    runs = pc.run_end_encode(ordered.column(column))
    split = []
    start = 0
    for end, value in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        split.append((value, ordered.slice(start, end - start)))
        start = end
    return split


def _label(value: dt.date | None) -> str:
    return NULL_PARTITION if value is None else value.isoformat()


def in_parallel(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`fn` of each item, on up to one thread per core: pyarrow's readers, writers and compute
    kernels release the GIL. Every call has ended when this returns or raises."""
    workers = min(len(items), usable_cores())
    if workers <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pinads-files")
    try:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
    finally:
        # After a failure nothing new starts, and nothing still writes when the caller
        # releases its lock.
        pool.shutdown(wait=True, cancel_futures=True)


def _advice(exc: OSError) -> str:
    """What to do about a failed file operation, by its cause."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a file stands where a directory is needed: move it"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space"
    return "make the directory writable"
