"""Files destination: layout, partition-level rewrites, atomic swaps and recovery."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pinads.errors import ConfigError, LoadError
from pinads.load import FileFormat, FilesDestination, open_destination
from pinads.load.files import in_parallel
from pinads.settings import load_settings
from pinads.values import ColumnSpec, TableSpec, WriteMode

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))

from contract_helpers import (
    KEY,
    batches,
    expected_rows,
    grid,
    latest_by_key,
    row,
    spec,
    table_rows,
)

UPSERT = WriteMode.UPSERT


def _open(root: Path, fmt: str = "parquet") -> FilesDestination:
    dest = open_destination(f"file://{root}?format={fmt}", settings=load_settings())
    assert isinstance(dest, FilesDestination)
    return dest


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_layout_is_one_dataset_per_table_partitioned_by_date(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    dest.write_step(
        table, batches(table, grid(range(2), range(3))), mode=UPSERT, scope="s", step_id="1"
    )
    names = [re.sub(r"part-[0-9a-f]{20}", "part-HASH", n) for n in _files(tmp_path)]
    assert names == [
        "campaign_daily/_pinads_manifest.json",
        "campaign_daily/date=2026-09-01/part-HASH.parquet",
        "campaign_daily/date=2026-09-02/part-HASH.parquet",
    ]
    manifest = json.loads((tmp_path / "campaign_daily/_pinads_manifest.json").read_text())
    assert manifest["format"] == "parquet"
    assert manifest["partition_by"] == "date"
    assert manifest["steps"]["s"]["1"]["rows"] == 6
    assert [c["name"] for c in manifest["columns"]] == list(table.column_names)


def test_upsert_rewrites_only_the_affected_partitions(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    dest.write_step(
        table, batches(table, grid(range(3), range(2))), mode=UPSERT, scope="s", step_id="1"
    )
    (untouched,) = (tmp_path / "campaign_daily/date=2026-09-01").glob("*.parquet")
    before = (untouched.stat().st_ino, untouched.read_bytes())
    dest.write_step(
        table,
        batches(table, grid(range(1, 3), range(2), spend=5)),
        mode=UPSERT,
        scope="s",
        step_id="2",
    )
    assert (untouched.stat().st_ino, untouched.read_bytes()) == before


def test_append_writes_one_snapshot_file_per_step(tmp_path: Path) -> None:
    dest = _open(tmp_path, "csv")
    table = spec("snaps")
    rows = grid(range(1), range(2))
    for step in ("run1", "run2"):
        dest.write_step(table, batches(table, rows), mode=WriteMode.APPEND, scope="s", step_id=step)
    names = [n for n in _files(tmp_path) if n.endswith(".csv")]
    assert len(names) == 2
    assert all(n.startswith("snaps/date=2026-09-01/snap-") for n in names)


def test_crash_between_data_and_manifest_reruns_the_step(tmp_path: Path) -> None:
    dest = _open(tmp_path, "jsonl")
    table = spec()
    first = grid(range(3), range(2), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="1")
    manifest = tmp_path / "campaign_daily/_pinads_manifest.json"
    saved = manifest.read_bytes()
    second = grid(range(2, 4), range(2), spend=2)
    dest.write_step(table, batches(table, second), mode=UPSERT, scope="s", step_id="2")
    manifest.write_bytes(saved)  # as if the process died after the data, before the manifest
    assert dest.completed_steps(table.name, "s") == {"1"}
    dest.write_step(table, batches(table, second), mode=UPSERT, scope="s", step_id="2")
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        latest_by_key(first, second), table.column_names
    )


def test_interrupted_swap_is_rolled_back(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    old = grid(range(2), range(2), spend=1)
    dest.write_step(table, batches(table, old), mode=UPSERT, scope="s", step_id="old")
    dest.begin_replace(table)
    new = grid(range(5, 6), range(2), spend=2)
    dest.write_step(table, batches(table, new), mode=WriteMode.REPLACE, scope="s", step_id="a")
    # The first rename of finish_replace happened, then the process died.
    os.replace(tmp_path / "campaign_daily", tmp_path / ".campaign_daily.old-dead")
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        old, table.column_names
    )
    assert dest.completed_steps(table.name, "s") == {"a"}  # the replace run is still resumable
    dest.finish_replace(table)
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        new, table.column_names
    )
    assert not list(tmp_path.glob(".campaign_daily.old-*"))


def test_parquet_dataset_reads_with_duckdb_glob(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    rows = grid(range(4), range(3))
    dest.write_step(table, batches(table, rows), mode=UPSERT, scope="s", step_id="1")
    (tmp_path / "campaign_daily/date=2026-09-01/.data.parquet.x.partial").write_bytes(b"half")
    glob = f"{tmp_path}/campaign_daily/*/*.parquet"
    count = duckdb.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()
    assert count == [(12,)]


def test_rows_without_a_date_go_in_one_partition(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = TableSpec(
        name="by_day",
        columns=(
            ColumnSpec(name="date", arrow_type=pa.date32()),
            ColumnSpec(name="n", arrow_type=pa.int64()),
        ),
        key=(),
    )
    data = pa.RecordBatch.from_pylist(
        [{"date": None, "n": 1}, {"date": dt.date(2026, 1, 2), "n": 2}], schema=table.schema
    )
    dest.write_step(table, [data], mode=WriteMode.APPEND, scope="s", step_id="1")
    dirs = sorted(p.name for p in (tmp_path / "by_day").iterdir() if p.is_dir())
    assert dirs == ["date=2026-01-02", "date=__HIVE_DEFAULT_PARTITION__"]
    assert sorted(dest.read_table("by_day").column("n").to_pylist()) == [1, 2]


def test_a_dataset_keeps_its_format(tmp_path: Path) -> None:
    table = spec()
    _open(tmp_path, "csv").write_step(
        table, batches(table, grid(range(1), range(1))), mode=UPSERT, scope="s", step_id="1"
    )
    with pytest.raises(LoadError, match=r"holds csv files, not parquet.*\?format=csv"):
        _open(tmp_path, "parquet").read_table(table.name)


def test_check_on_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LoadError, match="cannot write a test file under"):
        _open(blocker / "sub").check()


def test_check_creates_the_directory(tmp_path: Path) -> None:
    dest = _open(tmp_path / "new" / "dir")
    dest.check()
    assert (tmp_path / "new" / "dir").is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file://relative/dir", "absolute directory"),
        ("file:///data?format=xlsx", "not parquet, csv or jsonl"),
        ("file:///data?compression=gzip", "unknown parameters"),
    ],
)
def test_invalid_file_urls(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        open_destination(url, settings=load_settings())


def test_default_format_is_parquet(tmp_path: Path) -> None:
    assert _open(tmp_path).format is FileFormat.PARQUET
    dest = open_destination(f"file://{tmp_path}", settings=load_settings())
    assert isinstance(dest, FilesDestination)
    assert dest.format is FileFormat.PARQUET


def test_rerun_of_one_step_rewrites_only_that_steps_files(tmp_path: Path) -> None:
    dest = _open(tmp_path, "csv")
    table = spec()
    steps = {f"s{c}": grid(range(3), range(c * 10, c * 10 + 10), spend=1) for c in range(4)}
    for step_id, rows in steps.items():
        dest.write_step(table, batches(table, rows), mode=UPSERT, scope="s", step_id=step_id)
    partition = tmp_path / "campaign_daily/date=2026-09-02"
    before = {p.name: p.stat().st_mtime_ns for p in partition.glob("*.csv")}
    assert len(before) == 4
    again = grid(range(3), range(20, 30), spend=2)  # step s2's keys, new values
    dest.write_step(table, batches(table, again), mode=UPSERT, scope="s", step_id="s2")
    after = {p.name: p.stat().st_mtime_ns for p in partition.glob("*.csv")}
    assert after.keys() == before.keys()
    assert sum(after[n] != before[n] for n in after) == 1
    expected = latest_by_key(*steps.values(), again)
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        expected, table.column_names
    )


def test_upsert_moves_keys_out_of_other_steps_files(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    first = grid(range(2), range(0, 6), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="a")
    shifted = grid(range(2), range(3, 9), spend=2)  # another step overlapping half the keys
    dest.write_step(table, batches(table, shifted), mode=UPSERT, scope="s", step_id="b")
    got = dest.read_table(table.name)
    assert got.num_rows == 2 * 9
    assert table_rows(got, table.column_names) == expected_rows(
        latest_by_key(first, shifted), table.column_names
    )


def _manifest_files(root: Path, table: str = "campaign_daily") -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = json.loads(
        (root / table / "_pinads_manifest.json").read_text()
    )["files"]
    return files


def _data_files(root: Path, table: str = "campaign_daily") -> list[str]:
    return sorted(
        str(p.relative_to(root / table))
        for p in (root / table).rglob("*")
        if p.is_file() and p.name != "_pinads_manifest.json"
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_upsert_of_every_key_again_deletes_the_older_file(tmp_path: Path, fmt: str) -> None:
    dest = _open(tmp_path, fmt)
    table = spec()
    first = grid(range(3), range(4), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="a")
    older = _data_files(tmp_path)
    again = grid(range(3), range(4), spend=2)
    dest.write_step(table, batches(table, again), mode=UPSERT, scope="s", step_id="b")
    newer = _data_files(tmp_path)
    assert len(newer) == 3 and not set(newer) & set(older)  # one file per partition, b's
    assert sorted(_manifest_files(tmp_path)) == newer
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        again, table.column_names
    )


def test_a_file_the_step_replaces_entirely_is_read_for_its_keys_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = _open(tmp_path)
    table = spec()
    dest.write_step(
        table,
        batches(table, grid(range(2), range(3), spend=1)),
        mode=UPSERT,
        scope="s",
        step_id="a",
    )
    read_columns: list[list[str] | None] = []
    read = pq.ParquetFile.read

    def spy(self: pq.ParquetFile, columns: list[str] | None = None, **kwargs: object) -> pa.Table:
        read_columns.append(columns)
        return read(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    dest.write_step(
        table,
        batches(table, grid(range(2), range(3), spend=2)),
        mode=UPSERT,
        scope="s",
        step_id="b",
    )
    assert read_columns == [list(KEY), list(KEY)]  # one key read per partition, nothing more


def test_each_file_and_each_directory_is_synced_once_per_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = _open(tmp_path, "csv")
    table = spec()
    dest.write_step(
        table, batches(table, grid(range(4), range(2))), mode=UPSERT, scope="s", step_id="a"
    )
    synced: list[str] = []
    renamed: list[str] = []
    fsync, replace = os.fsync, os.replace

    def spy_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    def spy_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        renamed.append(Path(dst).name)
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    # Half the keys of two partitions again: each keeps a smaller file of step a's rows.
    rows = grid(range(2, 6), range(1))
    dest.write_step(table, batches(table, rows), mode=UPSERT, scope="s", step_id="b")
    dataset = tmp_path / "campaign_daily"
    parts = [dataset / f"date=2026-09-0{d}" for d in range(3, 7)]
    files = [p for p in synced if p.endswith(".partial")]  # the temporary names, renamed since
    dirs = sorted(p for p in synced if Path(p).is_dir())
    assert len(files) + len(dirs) == len(synced)
    assert dirs == sorted([str(dataset), *map(str, parts)])  # manifest's dir + 4 partitions
    # b's file in 4 partitions, a's rewritten in 2, the manifest: each synced before its rename.
    assert len(files) == len(renamed) == 4 + 2 + 1
    assert len(set(files)) == len(files)


def test_a_failing_partition_moves_no_checkpoint(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    rows = grid(range(6), range(2))
    first = grid(range(6, 7), range(2))  # creates the dataset; step 1 leaves its keys alone
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="0")
    blocker = tmp_path / "campaign_daily" / "date=2026-09-04"
    blocker.write_text("in the way")
    with pytest.raises(LoadError, match="a file stands where a directory is needed"):
        dest.write_step(table, batches(table, rows), mode=UPSERT, scope="s", step_id="1")
    assert dest.completed_steps(table.name, "s") == {"0"}
    blocker.unlink()
    dest.write_step(table, batches(table, rows), mode=UPSERT, scope="s", step_id="1")
    assert dest.completed_steps(table.name, "s") == {"0", "1"}
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        first + rows, table.column_names
    )
    assert sorted(_manifest_files(tmp_path)) == _data_files(tmp_path)


def test_a_failing_step_deletes_no_file_before_its_manifest_is_saved(tmp_path: Path) -> None:
    """Step b brings every key of step a again, so a's files go: only once b's manifest is
    saved. A failure part-way through b (a partition it cannot create) leaves them all."""
    dest = _open(tmp_path)
    table = spec()
    first = grid(range(4), range(2), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="a")
    dataset = tmp_path / "campaign_daily"
    older = {name: (dataset / name).read_bytes() for name in _data_files(tmp_path)}
    manifest = (dataset / "_pinads_manifest.json").read_bytes()
    again = grid(range(5), range(2), spend=2)
    blocker = dataset / "date=2026-09-05"  # the last partition of b cannot be made
    blocker.write_text("in the way")
    with pytest.raises(LoadError, match="a file stands where a directory is needed"):
        dest.write_step(table, batches(table, again), mode=UPSERT, scope="s", step_id="b")
    assert {name: (dataset / name).read_bytes() for name in older} == older
    assert (dataset / "_pinads_manifest.json").read_bytes() == manifest
    blocker.unlink()
    dest.write_step(table, batches(table, again), mode=UPSERT, scope="s", step_id="b")
    assert not set(older) & set(_data_files(tmp_path))
    assert sorted(_manifest_files(tmp_path)) == _data_files(tmp_path)
    assert "obsolete" not in json.loads((dataset / "_pinads_manifest.json").read_bytes())
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        again, table.column_names
    )


def test_files_a_crash_left_to_delete_are_deleted_and_never_read(tmp_path: Path) -> None:
    """The process died after b's manifest (which lists a's files as obsolete) was saved and
    before a's files were deleted: they are not read, and the next write deletes them."""
    dest = _open(tmp_path, "csv")
    table = spec()
    first = grid(range(3), range(2), spend=1)
    dest.write_step(table, batches(table, first), mode=UPSERT, scope="s", step_id="a")
    dataset = tmp_path / "campaign_daily"
    older = {name: (dataset / name).read_bytes() for name in _data_files(tmp_path)}
    again = grid(range(3), range(2), spend=2)
    dest.write_step(table, batches(table, again), mode=UPSERT, scope="s", step_id="b")
    for name, data in older.items():  # as the crash left them
        (dataset / name).write_bytes(data)
    path = dataset / "_pinads_manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "obsolete": sorted(older)}))
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        again, table.column_names
    )
    dest.write_step(
        table, batches(table, grid(range(9, 10), range(1))), mode=UPSERT, scope="s", step_id="c"
    )
    assert not set(older) & set(_data_files(tmp_path))
    assert "obsolete" not in json.loads(path.read_text())


def test_many_partitions_written_at_once_are_all_recorded(tmp_path: Path) -> None:
    dest = _open(tmp_path, "csv")
    table = spec()
    first = grid(range(30), range(5), spend=1)
    dest.write_step(table, batches(table, first, size=4), mode=UPSERT, scope="s", step_id="a")
    second = grid(range(10, 40), range(3, 8), spend=2)
    dest.write_step(table, batches(table, second, size=64), mode=UPSERT, scope="s", step_id="b")
    files = _manifest_files(tmp_path)
    assert sorted(files) == _data_files(tmp_path)
    for name, stats in files.items():
        assert stats["size"] == (tmp_path / "campaign_daily" / name).stat().st_size
    assert table_rows(dest.read_table(table.name), table.column_names) == expected_rows(
        latest_by_key(first, second), table.column_names
    )


def test_in_parallel_keeps_the_order_and_waits_for_every_call() -> None:
    assert in_parallel(lambda n: n * n, list(range(50))) == [n * n for n in range(50)]
    ended: list[int] = []

    def work(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        ended.append(n)
        return n

    with pytest.raises(ValueError, match="three"):
        in_parallel(work, list(range(8)))
    settled = list(ended)
    assert 3 not in settled
    assert ended == settled  # nothing still runs after in_parallel raised


def test_partitions_of_several_large_batches_keep_the_rows_order(tmp_path: Path) -> None:
    dest = _open(tmp_path)
    table = spec()
    # Campaigns descending, days interleaved: two batches of 5,000 rows, each split on its own.
    rows = [row(d, c) for c in range(199, -1, -1) for d in range(50)]
    dest.write_step(table, batches(table, rows, size=5_000), mode=UPSERT, scope="s", step_id="1")
    assert len(_data_files(tmp_path)) == 50
    (day7,) = (tmp_path / "campaign_daily/date=2026-09-08").glob("*.parquet")
    campaigns = pq.read_table(day7).column("campaign_id").to_pylist()
    assert campaigns == [f"6265356{c:05d}" for c in range(199, -1, -1)]
    assert dest.read_table(table.name).num_rows == 10_000
