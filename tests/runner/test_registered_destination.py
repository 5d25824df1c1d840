"""A new kind of destination is one module plus one registry entry.

This module is that module: an Arrow IPC file destination (`arrowfile:///dir`, one file per
table holding its rows and its checkpoints together, swapped in by rename), written against
the Destination protocol alone. The test registers it and runs a saved source into it through
the service, as `pinads run` does, against the in-process emulator; URL checks, refusals and
the destination field's help pick it up from the registry.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import SplitResult

import httpx
import pyarrow as pa
import pytest
from starlette.applications import Starlette

from pinads.api import PinterestClient
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import ConfigError, LoadError
from pinads.load import check_destination_url
from pinads.load.paths import confined_path
from pinads.load.registry import DestinationKind, Opener, kinds, register, unregister
from pinads.load.spec import Destination, OnCommit, StepItem, write_each
from pinads.load.url_parts import FormError, query_params
from pinads.runner import service
from pinads.settings import AppSettings, load_settings
from pinads.sources.config import destination_help
from pinads.values import TableSpec, WriteMode, shadow_name

from .emu import source_doc

# -- the destination module -------------------------------------------------------------------

_STEPS = b"pinads.steps"  # schema metadata: {scope: [step ids]}, committed with the rows


def parse_url(text: str, parts: SplitResult, settings: AppSettings) -> Opener:
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise FormError("an arrowfile URL needs three slashes and an absolute directory")
    if query_params(parts.query):
        raise ValueError("an arrowfile URL takes no parameters")
    return partial(ArrowFileDestination, confined_path(parts.path, settings=settings))


class ArrowFileDestination:
    """`<dir>/<table>.arrow` per table: rows and checkpoints in one file, replaced by rename."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self._lock = threading.Lock()

    def _file(self, name: str) -> Path:
        return self.root / f"{name}.arrow"

    def _load(self, name: str) -> tuple[pa.Table, dict[str, list[str]]] | None:
        path = self._file(name)
        if not path.exists():
            return None
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        metadata = table.schema.metadata or {}
        if _STEPS not in metadata:  # a file pinads did not write: never overwritten
            raise ConfigError(f"table {path.stem!r} in {self.url} was not created by pinads")
        return table.replace_schema_metadata(None), json.loads(metadata[_STEPS])

    def _save(self, name: str, rows: pa.Table, steps: dict[str, list[str]]) -> None:
        rows = rows.replace_schema_metadata({_STEPS: json.dumps(steps).encode()})
        temporary = self._file(f".{name}.tmp")
        with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, rows.schema) as out:
            out.write_table(rows)
        os.replace(temporary, self._file(name))

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def check_table(self, table_name: str, *, grain: str | None = None) -> None:
        self._load(table_name)

    def write_step(
        self,
        table: TableSpec,
        batches: Iterable[pa.RecordBatch],
        *,
        mode: WriteMode,
        scope: str,
        step_id: str,
    ) -> int:
        name = shadow_name(table.name) if mode is WriteMode.REPLACE else table.name
        new = pa.Table.from_batches(list(batches), schema=table.schema)
        with self._lock:
            old, steps = self._load(name) or (table.schema.empty_table(), {})
            done = steps.setdefault(scope, [])
            if mode is WriteMode.APPEND and step_id in done:
                return 0
            if mode is WriteMode.APPEND:
                rows = pa.concat_tables([old, new])
            else:
                rows = _merge(old, new, table.key, keep_old=mode is WriteMode.INSERT_IGNORE)
            if step_id not in done:
                done.append(step_id)
            self._save(name, rows, steps)
            added: int = rows.num_rows - old.num_rows
            return added if mode is WriteMode.INSERT_IGNORE else new.num_rows

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
        write_each(self, table, steps, mode=mode, scope=scope, on_commit=on_commit)

    def completed_steps(self, table_name: str, scope: str) -> set[str]:
        loaded = self._load(table_name)
        return set(loaded[1].get(scope, [])) if loaded else set()

    def clear_steps(
        self, table_name: str, scope: str, *, step_ids: Collection[str] | None = None
    ) -> None:
        with self._lock:
            loaded = self._load(table_name)
            if loaded is not None:
                rows, steps = loaded
                kept = [
                    s for s in steps.get(scope, []) if step_ids is not None and s not in step_ids
                ]
                self._save(table_name, rows, {**steps, scope: kept})

    def reset_if_missing(self, table_name: str, scope: str) -> set[str]:
        return set()  # the checkpoints live in the table's own file: gone with it

    def begin_replace(self, table: TableSpec) -> None:
        return None  # the shadow file is made by its first step

    def finish_replace(self, table: TableSpec) -> None:
        with self._lock:
            os.replace(self._file(shadow_name(table.name)), self._file(table.name))

    def abort_replace(self, table_name: str) -> None:
        self._file(shadow_name(table_name)).unlink(missing_ok=True)

    def read_table(self, table_name: str) -> pa.Table:
        loaded = self._load(table_name)
        if loaded is None:
            raise LoadError(f"table {table_name!r} does not exist in {self.url}")
        return loaded[0]

    def close(self) -> None:
        return None


def _merge(old: pa.Table, new: pa.Table, key: tuple[str, ...], *, keep_old: bool) -> pa.Table:
    """One row per key: a new row replaces an old one (unless `keep_old`), the last new row of
    a key wins."""
    rows = {tuple(r[k] for k in key): r for r in old.to_pylist()}
    known = set(rows) if keep_old else set()
    for r in new.to_pylist():
        if tuple(r[k] for k in key) not in known:
            rows[tuple(r[k] for k in key)] = r
    return pa.Table.from_pylist(list(rows.values()), schema=new.schema)


# -- the registry entry and the test --------------------------------------------------------

ARROWFILE = DestinationKind(
    name="arrowfile",
    schemes=("arrowfile",),
    module=__name__,
    forms=("arrowfile:///absolute/directory",),
    help="arrowfile:///dir",
)


@pytest.fixture
def registered() -> Iterator[None]:
    register(ARROWFILE)
    yield
    unregister(ARROWFILE.name)


def _opener(
    transport: httpx.BaseTransport, tokens: IssuedTokens
) -> Callable[[str], PinterestClient]:
    from .emu import make_client

    return lambda _label: make_client(transport, tokens)


def test_a_registered_kind_runs_a_saved_source_like_any_other(
    registered: None,
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    url = f"arrowfile://{tmp_path}/tables"
    duckdb_url = f"duckdb://{tmp_path}/shop.duckdb"
    opener = _opener(emulator_transport, emulator_tokens)
    today = emulator_app.state.emulator.today()
    days = {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}

    # The same source into DuckDB gives the rows to compare with.
    service.create_source(
        source_doc(tmp_path, name="reference", destination=duckdb_url, date_range=days),
        opener=opener,
    )
    service.run("reference", opener=opener, today=today)
    service.create_source(source_doc(tmp_path, destination=url, date_range=days), opener=opener)
    first = service.run("shop", opener=opener, today=today)
    again = service.run("shop", opener=opener, today=today)

    settings = load_settings()
    from pinads.load import open_destination

    ours = open_destination(url, settings=settings)
    reference = open_destination(duckdb_url, settings=settings)
    key = [(name, "ascending") for name in ("date", "campaign_id")]
    differ = ["_pinads_extracted_at", "_pinads_source", "_pinads_run_id"]  # per run, by design
    got = ours.read_table("shop").drop_columns(differ).sort_by(key)
    want = reference.read_table("reference").drop_columns(differ).sort_by(key)
    reference.close()
    assert got.num_rows == want.num_rows == first.rows_written > 0
    assert got.equals(want.cast(got.schema))
    assert again.rows_written == first.rows_written  # an upsert rerun: the same rows, no more
    assert ours.read_table("shop").num_rows == first.rows_written
    assert first.destination == url
    assert ours.completed_steps("shop", f"run:{again.run_id}")  # the checkpoints, with the rows


def test_url_checks_refusals_and_help_read_the_registry(registered: None, tmp_path: Path) -> None:
    settings = load_settings()
    check_destination_url(f"arrowfile://{tmp_path}/tables", settings)
    with pytest.raises(ConfigError) as refused:
        check_destination_url("arrowfile://host/tables", settings)
    assert str(refused.value) == (
        "destination 'arrowfile://host/tables' is not valid (an arrowfile URL needs three "
        "slashes and an absolute directory); use one of: duckdb (the file "
        "PINADS_HOME/pinads.duckdb); duckdb:///absolute/path/file.duckdb[?threads=N&"
        "memory_limit=SIZE]; postgresql://user:***@host:5432/database?schema=NAME (or "
        "postgres://); file:///absolute/directory?format=parquet|csv|jsonl; "
        "arrowfile:///absolute/directory"
    )
    with pytest.raises(ConfigError, match=r"^destination 'arrowfile:///tmp/x\?a=1' is not valid "):
        check_destination_url("arrowfile:///tmp/x?a=1", settings)
    assert destination_help().startswith(
        "duckdb (PINADS_HOME/pinads.duckdb), duckdb:///path, postgresql://..., "
        "file:///dir?format=parquet, arrowfile:///dir. "
    )
    with pytest.raises(ValueError, match=r"'arrowfile'.*already registered"):
        register(ARROWFILE)


def test_an_unregistered_kind_is_an_unknown_destination(tmp_path: Path) -> None:
    assert ARROWFILE not in kinds()
    with pytest.raises(ConfigError, match=r"\(unknown kind of destination\); use one of: duckdb"):
        check_destination_url(f"arrowfile://{tmp_path}/tables", load_settings())


def test_the_module_is_a_destination() -> None:
    """mypy checks this assignment against the protocol: the module needs nothing else."""
    dest: Destination = ArrowFileDestination(Path("/nonexistent"), "arrowfile:///nonexistent")
    with pytest.raises(LoadError, match="does not exist"):
        dest.read_table("shop")
